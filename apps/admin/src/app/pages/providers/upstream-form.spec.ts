import { jest } from '@jest/globals';
import type { TestRequest } from '@angular/common/http/testing';
import type { AbstractControl } from '@angular/forms';
import { MAT_DIALOG_DATA } from '@angular/material/dialog';
import { MatSnackBar } from '@angular/material/snack-bar';
import type { ProviderDetail, UpstreamModelsResult, UpstreamTestResult } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { Notice } from './notice';
import { ProviderDialog } from './provider-dialog';
import { FakeSnackBar, setInput } from './providers.testing';
import { PROVIDERS_POLL_MS, ProvidersStore } from './providers.store';
import { UpstreamForm, outcomeText } from './upstream-form';

type FormView = Omit<UpstreamForm, never> & {
  fieldError(control: AbstractControl | null, field: string): string;
};

const home = provider('Home', 'available', {
  custom: true,
  baseUrl: 'http://127.0.0.1:11434/v1',
  requiresKey: false,
  keys: [],
  upstream: { source: 'console', models: { 'home-llama': 'llama3.2' }, ownedBy: 'Me', samplingParams: [] },
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
    const mine = provider('Mine', 'available', { custom: true, keys: [], upstream: { source: 'console', models: {}, ownedBy: 'Meta', samplingParams: [] } });
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

  it('额外采样参数: the ticked fields are sent with the definition, shown again on edit, and a refusal naming them is shown under them', async () => {
    create({ ...home, upstream: { ...home.upstream!, samplingParams: ['top_k'] } });
    expect(form.form.controls.samplingParams.value).toEqual(['top_k']);
    form.form.controls.samplingParams.setValue(['min_p', 'top_k']);
    let done = form.save();
    let req = live('/api/upstreams/Home', 'PATCH');
    // In the gateway's order, with the rest of the definition as it was.
    expect(req.request.body).toMatchObject({ name: 'Home', ownedBy: 'Me', samplingParams: ['top_k', 'min_p'] });
    const refusal = { message: 'Invalid value for \'samplingParams\': "min_p" is not a sampling field the gateway knows.', param: 'samplingParams' };
    req.flush({ error: { ...refusal, type: 'invalid_request_error', code: 'invalid_value' } }, { status: 400, statusText: 'Bad Request' });
    await done;
    expect(form.fieldError(form.form.controls.samplingParams, 'samplingParams')).toContain('"min_p"');
    expect(saved).toEqual([]);

    // Unticking all of them clears the list: the definition is replaced as a whole.
    form.form.controls.samplingParams.setValue([]);
    done = form.save();
    req = live('/api/upstreams/Home', 'PATCH');
    expect(req.request.body).not.toHaveProperty('samplingParams');
    req.flush(home);
    await done;
    expect(saved).toHaveLength(1);
    list(provider('DeepInfra'), home);
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

  const listedOk = (models: string[]): UpstreamModelsResult => ({
    ok: true,
    status: 200,
    latencyMs: 12,
    code: null,
    error: null,
    key: '****0001',
    models,
    total: models.length,
  });

  it('读取模型列表 before saving: the typed address and key go to the API; picked ids join the map', async () => {
    create(null);
    form.form.patchValue({ baseUrl: 'http://127.0.0.1:8000/v1', key: 'lab-key-0001' });
    const done = form.readModels();
    expect(form.listing()).toBe(true);
    const req = live('/api/upstreams/models', 'POST');
    expect(req.request.body).toEqual({ baseUrl: 'http://127.0.0.1:8000/v1', key: 'lab-key-0001' });
    req.flush(listedOk(['llama3.2', 'qwen2.5:7b', 'mistral']));
    await done;
    expect(form.listing()).toBe(false);
    expect(form.shown()).toEqual(['llama3.2', 'qwen2.5:7b', 'mistral']);
    form.togglePick('llama3.2');
    form.togglePick('mistral');
    form.togglePick('qwen2.5:7b');
    form.togglePick('qwen2.5:7b');
    form.addPicked();
    // The empty first row is filled, not left behind.
    expect(form.form.controls.models.getRawValue()).toEqual([
      { id: 'llama3.2', upstream: '' },
      { id: 'mistral', upstream: '' },
    ]);
    expect(snack.messages).toEqual(['已加入 2 个模型到映射，保存后生效']);
    expect([...form.mapped()]).toEqual(['llama3.2', 'mistral']);
    // 全选 picks what is not mapped yet, and a second press lets go.
    form.pickAll();
    expect([...form.picked()]).toEqual(['qwen2.5:7b']);
    form.pickAll();
    expect(form.picked().size).toBe(0);
    form.filter.set('QWEN');
    expect(form.matching()).toEqual(['qwen2.5:7b']);
  });

  it('a wrong address sends nothing and shows the field’s reason', async () => {
    create(null);
    form.form.patchValue({ baseUrl: 'localhost:8000' });
    await form.readModels();
    await form.test();
    h.http.expectNone('/api/upstreams/models');
    h.http.expectNone('/api/upstreams/test');
    expect(form.form.controls.baseUrl.touched).toBe(true);
    expect(form.fieldError(form.form.controls.baseUrl, 'baseUrl')).toContain('http://');
  });

  it('a read the upstream refused says why in Chinese, its own words beside', async () => {
    create(null);
    form.form.patchValue({ baseUrl: 'http://127.0.0.1:8000/v1', key: 'lab-key-0001' });
    const done = form.readModels();
    const failed: UpstreamModelsResult = {
      ...listedOk([]),
      ok: false,
      status: 401,
      code: 'auth_failed',
      error: 'HTTP 401: Incorrect API key provided: ****0001',
    };
    live('/api/upstreams/models', 'POST').flush(failed);
    await done;
    expect(outcomeText(form.listed()!)).toBe('上游拒绝了密钥（HTTP 401）');
    expect(form.listed()!.error).toBe('HTTP 401: Incorrect API key provided: ****0001');
  });

  it('测试 a saved upstream: its name goes along, the first mapped model is asked, each key’s result is kept', async () => {
    create(home);
    const done = form.test();
    const req = live('/api/upstreams/test', 'POST');
    expect(req.request.body).toEqual({ name: 'Home', baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.2' });
    const result: UpstreamTestResult = {
      model: 'llama3.2',
      results: [
        { key: '****0001', source: 'console', ok: true, status: 200, latencyMs: 40, code: null, error: null },
        { key: '****0002', source: 'console', ok: false, status: null, latencyMs: 1500, code: 'upstream_timeout', error: 'timeout: no answer' },
      ],
    };
    req.flush(result);
    await done;
    expect(form.tested()).toEqual(result);
    expect(form.tested()!.results.map(outcomeText)).toEqual(['成功', '上游超时：在限定时间内没有回应']);
  });

  it('测试 without a mapped model says what to fill in and sends nothing', async () => {
    create(null);
    form.form.patchValue({ baseUrl: 'http://127.0.0.1:8000/v1' });
    await form.test();
    h.http.expectNone('/api/upstreams/test');
    expect(form.trialProblem()).toContain('先在「模型映射」中填写一个模型');
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
