import { Clipboard } from '@angular/cdk/clipboard';
import { ɵSIGNAL as SIGNAL } from '@angular/core';
import { jest } from '@jest/globals';
import { createHarness, type Harness } from '../../../testing/harness';
import ApiDocsPage from './api-docs';
import { CodeSamples } from '../../shared/code-samples/code-samples';

interface CodeSamplesView {
  current(): { id: string; code: string };
  html(): string;
  copied(): boolean;
  copy(): void;
}

describe('ApiDocsPage', () => {
  let h: Harness;
  const copied: string[] = [];
  let copyResult = true;

  beforeEach(() => {
    jest.useFakeTimers();
    copied.length = 0;
    copyResult = true;
    h = createHarness([{ provide: Clipboard, useValue: { copy: (text: string) => (copied.push(text), copyResult) } }]);
  });
  afterEach(() => {
    h.destroy();
    jest.useRealTimers();
  });

  it("uses this server's own address everywhere", () => {
    const page = h.run(() => new ApiDocsPage());
    expect(page.baseUrl).toBe('http://pool.test:8080/v1');
    expect(page.origin).toBe('http://pool.test:8080');
    const samples = (page as unknown as { samples: Record<string, Array<{ code: string }>> }).samples;
    for (const name of ['chat', 'models', 'images', 'speech']) {
      for (const s of samples[name]!) expect(s.code).toContain('http://pool.test:8080/v1');
    }
    expect(samples['admin']![0]!.code).toContain('http://pool.test:8080/api/auth/login');
    const channel = (page as unknown as { channel: Array<{ field: string; value: string }> }).channel;
    expect(channel.find((f) => f.field === 'Base URL')!.value).toBe('http://pool.test:8080');
    expect(page.language()).toBe('python');
    expect(page.active()).toBe('overview');
  });

  it('copies the base URL and says so for a moment', () => {
    const page = h.run(() => new ApiDocsPage());
    page.copy('base', page.baseUrl);
    expect(copied).toEqual(['http://pool.test:8080/v1']);
    expect(page.copied()).toBe('base');
    jest.advanceTimersByTime(2000);
    expect(page.copied()).toBeNull();
    copyResult = false;
    page.copy('base', page.baseUrl);
    expect(page.copied()).toBeNull();
  });

  it('jumps to a section from the table of contents', () => {
    const page = h.run(() => new ApiDocsPage());
    const scrolled: unknown[] = [];
    const section = { id: 'one-api', scrollIntoView: (o: unknown) => scrolled.push(o) };
    Object.assign(h.document, { getElementById: (id: string) => (id === 'one-api' ? section : null) });
    let prevented = false;
    page.jump({ preventDefault: () => (prevented = true) } as unknown as Event, 'one-api');
    expect(prevented).toBe(true);
    expect(scrolled).toEqual([{ behavior: 'smooth', block: 'start' }]);
    expect(page.active()).toBe('one-api');
    // An unknown id does nothing.
    page.jump({ preventDefault: () => undefined } as unknown as Event, 'nope');
    expect(page.active()).toBe('one-api');
  });
});

describe('CodeSamples', () => {
  let h: Harness;
  const copied: string[] = [];

  beforeEach(() => {
    jest.useFakeTimers();
    copied.length = 0;
    h = createHarness([{ provide: Clipboard, useValue: { copy: (text: string) => (copied.push(text), true) } }]);
  });
  afterEach(() => {
    h.destroy();
    jest.useRealTimers();
  });

  it('shows the picked language (or the first sample), highlighted, and copies it', () => {
    const block = h.run(() => new CodeSamples());
    const view = block as unknown as CodeSamplesView;
    // Inputs set the way Angular does for a component created outside a template.
    const samples = [
      { id: 'python' as const, label: 'Python', language: 'python' as const, code: 'print("hi")\n' },
      { id: 'curl' as const, label: 'cURL', language: 'bash' as const, code: 'curl http://x/v1/models\n' },
    ];
    setInput(block, 'samples', samples);
    expect(view.current().id).toBe('python');
    expect(view.html()).toContain('hljs-built_in');
    block.language.set('curl');
    expect(view.current().code).toContain('curl http://x/v1/models');
    block.language.set('javascript');
    // No JavaScript sample here: the first one.
    expect(view.current().id).toBe('python');

    block.language.set('curl');
    view.copy();
    expect(copied).toEqual(['curl http://x/v1/models\n']);
    expect(view.copied()).toBe(true);
    jest.advanceTimersByTime(2000);
    expect(view.copied()).toBe(false);
  });
});

interface InputNode {
  applyValueToInputSignal(node: InputNode, value: unknown): void;
}

/** Sets a signal input of a component created as a plain class, as a template binding would. */
function setInput(component: object, name: string, value: unknown): void {
  const node = ((component as Record<string, unknown>)[name] as Record<symbol, InputNode>)[SIGNAL]!;
  node.applyValueToInputSignal(node, value);
}
