import { jest } from '@jest/globals';
import type { TestRequest } from '@angular/common/http/testing';
import { MatDialog } from '@angular/material/dialog';
import { MatSnackBar } from '@angular/material/snack-bar';
import type { ProviderDetail, ProviderKeyView } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { Notice } from './notice';
import { ProviderKeys } from './provider-keys';
import { FakeDialog, FakeSnackBar, setInput } from './providers.testing';
import { QuotaDialog } from './quota-dialog';
import type { KeyRow } from './providers-view';
import { PROVIDERS_POLL_MS, ProvidersStore } from './providers.store';

type KeysView = Omit<ProviderKeys, never> & {
  rows(): KeyRow[];
  tests(): Record<string, { ok: boolean; text: string }>;
  test(row: KeyRow): Promise<void>;
  remove(row: KeyRow): void;
  editQuota(row?: KeyRow): void;
  fieldError(field: 'key' | 'label'): string;
};

const NOW = Date.UTC(2026, 10, 26, 6, 0);
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};
const closed = provider('x').breaker;
const consoleKey: ProviderKeyView = { id: 'key-2', source: 'console', label: '备用', masked: '****7777', breaker: closed, invalid: false };

describe('ProviderKeys', () => {
  let h: Harness;
  let keys: KeysView;
  let store: ProvidersStore;
  let snack: FakeSnackBar;
  let dialog: FakeDialog;
  let deepinfra: ProviderDetail;

  function live(url: string, method = 'GET'): TestRequest {
    const reqs = h.http.match((r) => r.url === url && r.method === method).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }
  const list = (...providers: ProviderDetail[]) => live('/api/providers').flush(providers);
  const row = (id: string) => keys.rows().find((r) => r.id === id)!;

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    snack = new FakeSnackBar();
    dialog = new FakeDialog();
    h = createHarness([
      ProvidersStore,
      Notice,
      { provide: PROVIDERS_POLL_MS, useValue: 60_000 },
      { provide: MatSnackBar, useValue: snack },
      { provide: MatDialog, useValue: dialog },
    ]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    store = h.get(ProvidersStore);
    store.start();
    deepinfra = provider('DeepInfra', 'available', { keys: [...provider('DeepInfra').keys, consoleKey] });
    list(deepinfra);
    keys = h.run(() => new ProviderKeys()) as unknown as KeysView;
    setInput(keys.provider, deepinfra);
  });
  afterEach(() => {
    store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('lists the keys masked, with where they came from; environment keys are read-only', () => {
    expect(keys.rows().map((r) => [r.masked, r.sourceLabel, r.readOnly, r.stateLabel])).toEqual([
      ['****x9f2', '环境变量', true, '正常'],
      ['****7777', '控制台添加', false, '正常'],
    ]);
    // Live: a key that starts cooling shows it, with its countdown.
    setInput(keys.provider, { ...deepinfra, keys: [{ ...consoleKey, breaker: { ...closed, state: 'open', openUntil: NOW + 20_000 } }] });
    expect(row('key-2')).toMatchObject({ stateLabel: '冷却中', countdown: '20 秒后重试' });
  });

  it('tests a key and shows the verdict next to it', async () => {
    let done = keys.test(row('key-2'));
    live('/api/providers/DeepInfra/keys/key-2/test', 'POST').flush({ ok: true, latencyMs: 120, probe: 'models', error: null });
    await done;
    expect(keys.tests()['key-2']).toEqual({ ok: true, text: '有效 · 120 ms' });
    done = keys.test(row('key-2'));
    live('/api/providers/DeepInfra/keys/key-2/test', 'POST').flush({ ok: false, latencyMs: 30, probe: 'models', error: 'HTTP 401: Not authenticated' });
    await done;
    expect(keys.tests()['key-2']).toEqual({ ok: false, text: '无效：HTTP 401: Not authenticated' });
    done = keys.test(row('k1'));
    live('/api/providers/DeepInfra/keys/k1/test', 'POST').flush(
      { error: { message: 'gone', type: 'not_found_error', param: 'id', code: 'key_not_found' } },
      { status: 404, statusText: 'Not Found' },
    );
    await done;
    expect(keys.tests()['k1']).toEqual({ ok: false, text: '这个密钥已不存在（可能刚被删除）。' });
  });

  it('adds a key: empty is refused in the form; after adding, the form is empty and the masked key is named', async () => {
    await keys.add();
    expect(keys.fieldError('key')).toBe('请填写密钥');
    h.http.expectNone('/api/providers/DeepInfra/keys');

    keys.form.setValue({ key: ' sk-brand-new-9999 ', label: '' });
    const done = keys.add();
    expect(keys.adding()).toBe(true);
    const req = live('/api/providers/DeepInfra/keys', 'POST');
    expect(req.request.body).toEqual({ key: 'sk-brand-new-9999' });
    const added: ProviderKeyView = { ...consoleKey, id: 'key-3', label: null, masked: '****9999' };
    req.flush({ ...deepinfra, keys: [...deepinfra.keys, added] });
    await done;
    expect(keys.adding()).toBe(false);
    expect(keys.form.getRawValue()).toEqual({ key: '', label: '' });
    expect(snack.messages).toEqual(['已添加密钥 ****9999']);
    list(deepinfra);
  });

  it('shows the API’s objection under the field it names', async () => {
    keys.form.setValue({ key: 'sk-x', label: 'l' });
    const done = keys.add();
    live('/api/providers/DeepInfra/keys', 'POST').flush(
      { error: { message: "Invalid value for 'label': too long.", type: 'invalid_request_error', param: 'label', code: 'invalid_value' } },
      { status: 400, statusText: 'Bad Request' },
    );
    await done;
    expect(keys.form.controls.label.hasError('server')).toBe(true);
    expect(keys.fieldError('label')).toBe("服务器拒绝了这个请求：Invalid value for 'label': too long.");
    expect(keys.serverErrors()['']).toBeUndefined();
  });

  it('removes a console key after asking', async () => {
    dialog.result = false;
    keys.remove(row('key-2'));
    await settle();
    h.http.expectNone('/api/providers/DeepInfra/keys/key-2');
    dialog.result = true;
    keys.remove(row('key-2'));
    expect((dialog.opened[1]!.config['data'] as { message: string }).message).toContain('****7777（备用）');
    live('/api/providers/DeepInfra/keys/key-2', 'DELETE').flush(null, { status: 204, statusText: 'No Content' });
    await settle();
    expect(store.provider('DeepInfra')!.keys.map((k) => k.id)).toEqual(['k1']);
    expect(snack.messages).toEqual(['已删除 DeepInfra 的密钥 ****7777']);
    list(provider('DeepInfra'));
  });

  it('opens the limits of the provider (额度设置) or of one key (额度)', () => {
    keys.editQuota();
    keys.editQuota(row('key-2'));
    expect(dialog.opened.map((d) => d.component)).toEqual([QuotaDialog, QuotaDialog]);
    expect(dialog.opened.map((d) => d.config['data'])).toEqual([
      { provider: 'DeepInfra', keyId: null },
      { provider: 'DeepInfra', keyId: 'key-2', masked: '****7777' },
    ]);
  });
});
