import { jest } from '@jest/globals';
import { BreakpointObserver } from '@angular/cdk/layout';
import { MatSnackBar } from '@angular/material/snack-bar';
import { ActivatedRoute, convertToParamMap } from '@angular/router';
import { BehaviorSubject, of } from 'rxjs';
import { createHarness, type Harness } from '../../../testing/harness';
import { model, models, provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { FETCH } from './chat-stream';
import PlaygroundPage, { CLEAR_CONFIRM_MS, EXAMPLES } from './playground';
import { PlaygroundStore } from './playground.store';
import { FakeFetch } from './playground.testing';

interface PageView {
  store: PlaygroundStore;
  draft: { (): string; set(v: string): void };
  canSend(): boolean;
  confirmingClear(): boolean;
  settingsSummary(): string;
  tab(): string;
  examples: typeof EXAMPLES;
  ngOnInit(): void;
  send(text?: string): void;
  onEnter(e: Partial<KeyboardEvent>): void;
  clear(): void;
}

describe('PlaygroundPage', () => {
  let h: Harness;
  let page: PageView;
  let fake: FakeFetch;
  const snacks: string[] = [];
  const params = new BehaviorSubject(convertToParamMap({}));

  beforeEach(() => {
    fake = new FakeFetch();
    snacks.length = 0;
    h = createHarness([
      PlaygroundStore,
      { provide: FETCH, useValue: fake.fn },
      { provide: MatSnackBar, useValue: { open: (m: string) => snacks.push(m) } },
      { provide: BreakpointObserver, useValue: { observe: () => of({ matches: false, breakpoints: {} }) } },
      { provide: ActivatedRoute, useValue: { queryParamMap: params } },
    ]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    page = h.run(() => new PlaygroundPage()) as unknown as PageView;
    page.ngOnInit();
    h.http.expectOne('/api/models').flush(models([model('llama-3.3-70b', [['DeepInfra']]), model('flux', [['Together']], 'image')]));
    h.http.expectOne('/api/providers').flush([provider('DeepInfra'), provider('Together')]);
  });
  afterEach(() => {
    page.store.clear();
    h.destroy();
    jest.useRealTimers();
  });

  it('?tab= opens 嵌入 or 语音识别; no tab (or an unknown one) is 对话与图像', () => {
    expect(page.tab()).toBe('chat');
    params.next(convertToParamMap({ tab: 'embeddings' }));
    expect(page.tab()).toBe('embeddings');
    params.next(convertToParamMap({ tab: 'transcription' }));
    expect(page.tab()).toBe('transcription');
    params.next(convertToParamMap({ tab: 'nope' }));
    expect(page.tab()).toBe('chat');
    params.next(convertToParamMap({}));
  });

  const prevented = () => {
    const e = { shiftKey: false, isComposing: false, keyCode: 13, preventDefault: jest.fn() };
    return e;
  };

  it('loads on init, and sends the draft with Enter (not Shift+Enter, not while composing Chinese)', () => {
    expect(page.store.status()).toBe('ready');
    expect(page.settingsSummary()).toBe('llama-3.3-70b · 自动');
    expect(page.canSend()).toBe(false);
    page.draft.set('你好');
    expect(page.canSend()).toBe(true);

    const shift = { ...prevented(), shiftKey: true };
    page.onEnter(shift);
    expect(shift.preventDefault).not.toHaveBeenCalled();
    const composing = { ...prevented(), isComposing: true };
    page.onEnter(composing);
    expect(composing.preventDefault).not.toHaveBeenCalled();
    expect(page.store.turns()).toEqual([]);

    const enter = prevented();
    page.onEnter(enter);
    expect(enter.preventDefault).toHaveBeenCalled();
    expect(page.store.turns().map((t) => t.kind)).toEqual(['user', 'answer']);
    expect(page.draft()).toBe('');
    // One request at a time.
    page.draft.set('more');
    expect(page.canSend()).toBe(false);
  });

  it('an example prompt is sent as it is; image models get image examples', () => {
    page.send(page.examples.chat[0]);
    expect(page.store.turns()[0]).toMatchObject({ kind: 'user', text: EXAMPLES.chat[0] });
    page.store.clear();
    page.store.setModel('flux');
    expect(page.settingsSummary()).toBe('flux · 自动 · 1024×1024 · 1 张');
  });

  it('清空对话 asks first: a second click within a few seconds clears', () => {
    jest.useFakeTimers();
    page.send('hi');
    page.clear();
    expect(page.confirmingClear()).toBe(true);
    expect(page.store.turns()).toHaveLength(2);
    jest.advanceTimersByTime(CLEAR_CONFIRM_MS);
    expect(page.confirmingClear()).toBe(false);
    page.clear();
    page.clear();
    expect(page.store.turns()).toEqual([]);
    expect(page.store.busy()).toBe(false);
    expect(snacks).toEqual(['对话已清空']);
  });
});
