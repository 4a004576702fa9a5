import { jest } from '@jest/globals';
import type { TestRequest } from '@angular/common/http/testing';
import type { AbstractControl } from '@angular/forms';
import { MAT_DIALOG_DATA } from '@angular/material/dialog';
import { MatSnackBar } from '@angular/material/snack-bar';
import type { ProviderDetail } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { Notice } from './notice';
import { ProviderDialog } from './provider-dialog';
import { FakeSnackBar, setInput } from './providers.testing';
import { PROVIDERS_POLL_MS, ProvidersStore } from './providers.store';
import { UpstreamForm } from './upstream-form';

type FormView = Omit<UpstreamForm, never> & {
  fieldError(control: AbstractControl | null, field: string): string;
};

const home = provider('Home', 'available', {
  custom: true,
  baseUrl: 'http://127.0.0.1:11434/v1',
  requiresKey: false,
  keys: [],
  upstream: { source: 'console', models: { 'home-llama': 'llama3.2' }, ownedBy: 'Me' },
});

describe('UpstreamForm', () => {
  let h: Harness;
  let form: FormView;
  let store: ProvidersStore;
  let snack: FakeSnackBar;
  let saved: ProviderDetail[];

  function live(url: string, method = 'GET'): TestRequest {
    const reqs = h.http.match((r) => r.url === url && r.method === method).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }
  const list = (...providers: ProviderDetail[]) => live('/api/providers').flush(providers);
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  function create(p: ProviderDetail | null): void {
    form = h.run(() => new UpstreamForm()) as unknown as FormView;
    setInput(form.provider, p);
    form.ngOnInit();
    saved = [];
    form.saved.subscribe((x) => saved.push(x));
  }

  beforeEach(() => {
    jest.useFakeTimers();
    snack = new FakeSnackBar();
    h = createHarness([ProvidersStore, Notice, { provide: PROVIDERS_POLL_MS, useValue: 60_000 }, { provide: MatSnackBar, useValue: snack }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    store = h.get(ProvidersStore);
    store.start();
    list(provider('DeepInfra'), home);
  });
  afterEach(() => {
    store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('a new upstream: says what is missing and sends nothing', async () => {
    create(null);
    expect(form.editing()).toBe(false);
    expect(form.form.controls.models.length).toBe(1);
    await form.save();
    expect(form.fieldError(form.form.controls.name, 'name')).toBe('必填');
    expect(form.fieldError(form.form.controls.baseUrl, 'baseUrl')).toBe('必填');
    expect(form.modelsProblem()).toBe('至少添加一个模型');
    form.form.patchValue({ name: '9lives', baseUrl: 'localhost:11434' });
    expect(form.fieldError(form.form.controls.name, 'name')).toContain('以字母开头');
    expect(form.fieldError(form.form.controls.baseUrl, 'baseUrl')).toContain('http://');
    h.http.expectNone('/api/upstreams');
  });

  it('creates it, then adds its key', async () => {
    create(null);
    form.form.patchValue({ name: 'Mine', baseUrl: 'http://127.0.0.1:8000/v1', ownedBy: 'Meta', key: 'sk-upstream-1' });
    form.form.controls.models.at(0).setValue({ id: 'my-llama', upstream: 'meta-llama/Llama-3.1-8B-Instruct' });
    form.addModel();
    form.form.controls.models.at(1).setValue({ id: 'my-qwen', upstream: '' });
    form.addModel();
    form.removeModel(2);
    const done = form.save();
    const req = live('/api/upstreams', 'POST');
    expect(req.request.body).toEqual({
      name: 'Mine',
      baseUrl: 'http://127.0.0.1:8000/v1',
      ownedBy: 'Meta',
      models: { 'my-llama': 'meta-llama/Llama-3.1-8B-Instruct', 'my-qwen': 'my-qwen' },
    });
    const mine = provider('Mine', 'available', { custom: true, keys: [], upstream: { source: 'console', models: {}, ownedBy: 'Meta' } });
    req.flush(mine);
    await settle();
    const key = live('/api/providers/Mine/keys', 'POST');
    expect(key.request.body).toEqual({ key: 'sk-upstream-1' });
    key.flush(mine);
    await done;
    expect(saved.map((p) => p.name)).toEqual(['Mine']);
    expect(snack.messages).toEqual(['已添加上游 Mine（含 1 个密钥）']);
    list(provider('DeepInfra'), home, mine);
  });

  it('a name that is taken: the reason goes under the name', async () => {
    create(null);
    form.form.patchValue({ name: 'deepinfra', baseUrl: 'http://127.0.0.1:8000/v1' });
    form.form.controls.models.at(0).setValue({ id: 'm', upstream: '' });
    const done = form.save();
    live('/api/upstreams', 'POST').flush(
      { error: { message: 'A provider named `deepinfra` already exists.', type: 'invalid_request_error', param: 'name', code: 'provider_exists' } },
      { status: 409, statusText: 'Conflict' },
    );
    await done;
    expect(form.fieldError(form.form.controls.name, 'name')).toBe('已有同名的提供商（内置提供商或另一个上游），请换一个名字。');
    expect(saved).toEqual([]);
  });

  it('edits one: the name is fixed, the definition is replaced as a whole', async () => {
    create(home);
    expect(form.editing()).toBe(true);
    expect(form.form.controls.name.disabled).toBe(true);
    expect(form.form.getRawValue()).toMatchObject({ name: 'Home', ownedBy: 'Me', models: [{ id: 'home-llama', upstream: 'llama3.2' }] });
    form.form.controls.ownedBy.setValue('');
    const done = form.save();
    const req = live('/api/upstreams/Home', 'PATCH');
    expect(req.request.body).toEqual({ name: 'Home', baseUrl: 'http://127.0.0.1:11434/v1', models: { 'home-llama': 'llama3.2' } });
    const after = { ...home, upstream: { ...home.upstream!, ownedBy: null } };
    req.flush(after);
    await done;
    expect(snack.messages).toEqual(['已保存上游 Home']);
    expect(saved).toHaveLength(1);
    list(provider('DeepInfra'), after);
  });

  it('moving one with keys to another host asks for that host’s key and sends it with the definition', async () => {
    const keyed = { ...home, keys: [{ id: 'key-1', source: 'console' as const, label: null, masked: '****0001', breaker: home.breaker, invalid: false }] };
    create(keyed);
    form.form.controls.baseUrl.setValue('http://127.0.0.1:11434/v2');
    expect(form.asksKey()).toBe(false);
    form.form.controls.baseUrl.setValue('http://gpu-box:11434/v1');
    expect(form.asksKey()).toBe(true);
    form.form.controls.key.setValue('gpu-box-key-0002');
    const done = form.save();
    const req = live('/api/upstreams/Home', 'PATCH');
    expect(req.request.body).toMatchObject({ baseUrl: 'http://gpu-box:11434/v1', key: 'gpu-box-key-0002' });
    const after = { ...keyed, baseUrl: 'http://gpu-box:11434/v1' };
    req.flush(after);
    await done;
    expect(form.asksKey()).toBe(false);
    list(provider('DeepInfra'), after);
  });
});

describe('ProviderDialog', () => {
  it('follows the live list, and says so when the provider is gone', () => {
    jest.useFakeTimers();
    const h = createHarness([ProvidersStore, { provide: MAT_DIALOG_DATA, useValue: { name: 'home', tab: 'settings' } }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    const store = h.get(ProvidersStore);
    store.start();
    h.http.expectOne('/api/providers').flush([home]);
    const dialog = h.run(() => new ProviderDialog()) as unknown as {
      provider(): ProviderDetail | null;
      kind(): string | null;
      kindLabel(): string | null;
      keyCount(): number;
    };
    expect(dialog.provider()?.name).toBe('Home');
    expect([dialog.kind(), dialog.kindLabel(), dialog.keyCount()]).toEqual(['console', '自定义', 0]);
    store.refresh();
    h.http.expectOne('/api/providers').flush([]);
    expect(dialog.provider()).toBeNull();
    store.stop();
    h.destroy();
    jest.useRealTimers();
  });
});
