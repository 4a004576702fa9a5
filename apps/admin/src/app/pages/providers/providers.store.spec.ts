import { jest } from '@jest/globals';
import type { TestRequest } from '@angular/common/http/testing';
import type { ProviderDetail } from '#contracts';
import { STORAGE_KEYS } from '../../core/browser';
import { createHarness, type Harness } from '../../../testing/harness';
import { provider } from '../../../testing/fixtures';
import { CLOCK_TICK_MS, PROVIDERS_POLL_MS, ProvidersStore } from './providers.store';

const POLL = 5000;
const NETWORK_ERROR = { type: 'error' } as ProgressEvent;
const SESSION = JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) });
const NOW = Date.UTC(2026, 10, 26, 6, 0);

/** Lets the awaits inside an action run on. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('ProvidersStore', () => {
  let h: Harness;
  let store: ProvidersStore;

  /** The one pending, not cancelled, request to `url`. */
  function live(url: string, method = 'GET'): TestRequest {
    const reqs = h.http.match((r) => r.url === url && r.method === method).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }
  const list = (...providers: ProviderDetail[]) => live('/api/providers').flush(providers);

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    h = createHarness([ProvidersStore, { provide: PROVIDERS_POLL_MS, useValue: POLL }]);
    h.storage.setItem(STORAGE_KEYS.session, SESSION);
    store = h.get(ProvidersStore);
  });
  afterEach(() => {
    store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('loads the providers, then polls every few seconds', () => {
    expect(store.status()).toBe('loading');
    store.start();
    const req = live('/api/providers');
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok');
    req.flush([provider('DeepInfra'), provider('Together', 'disabled')]);
    expect(store.status()).toBe('ready');
    expect(store.rows().map((r) => [r.name, r.statusLabel])).toEqual([
      ['DeepInfra', '可用'],
      ['Together', '已停用'],
    ]);
    expect(store.counts().map((c) => c.count)).toEqual([1, 1]);
    expect(store.updatedAt()).toBe(NOW);
    expect(store.provider('deepinfra')?.name).toBe('DeepInfra');
    expect(store.provider('nope')).toBeNull();

    jest.advanceTimersByTime(POLL - 1);
    h.http.expectNone('/api/providers');
    jest.advanceTimersByTime(1);
    list(provider('DeepInfra', 'cooling-down'));
    expect(store.rows()).toHaveLength(1);
    expect(store.rows()[0]!.status).toBe('cooling-down');
  });

  it('moves breaker countdowns every second', () => {
    store.start();
    list(provider('DeepInfra', 'cooling-down', { breaker: { state: 'open', consecutiveFailures: 3, openUntil: NOW + 30_000, lastFailure: null } }));
    expect(store.rows()[0]!.breaker.countdown).toBe('30 秒后重试');
    jest.advanceTimersByTime(CLOCK_TICK_MS * 3);
    expect(store.rows()[0]!.breaker.countdown).toBe('27 秒后重试');
    store.stop();
    jest.advanceTimersByTime(CLOCK_TICK_MS * 3);
    expect(store.rows()[0]!.breaker.countdown).toBe('27 秒后重试');
  });

  it('keeps the list after a failed poll, says it is stale, and recovers', () => {
    store.start();
    list(provider('DeepInfra'));
    jest.advanceTimersByTime(POLL);
    live('/api/providers').error(NETWORK_ERROR, { status: 0, statusText: 'Unknown Error' });
    expect(store.status()).toBe('ready');
    expect(store.stale()).toBe(true);
    expect(store.failure()?.kind).toBe('unreachable');
    expect(store.rows()).toHaveLength(1);
    jest.advanceTimersByTime(POLL);
    list(provider('DeepInfra'));
    expect(store.stale()).toBe(false);
  });

  it('a first load that fails is unreachable (or error) and keeps retrying; 401 stops the polling', () => {
    store.start();
    live('/api/providers').error(NETWORK_ERROR, { status: 0, statusText: 'Unknown Error' });
    expect(store.status()).toBe('unreachable');
    jest.advanceTimersByTime(POLL);
    live('/api/providers').flush({ error: { message: 'boom', type: 'server_error', param: null, code: null } }, { status: 500, statusText: 'Server Error' });
    expect(store.status()).toBe('error');
    expect(store.failure()?.message).toContain('500');
    jest.advanceTimersByTime(POLL);
    live('/api/providers').flush(
      { error: { message: 'no', type: 'authentication_error', param: null, code: null } },
      { status: 401, statusText: 'Unauthorized' },
    );
    jest.advanceTimersByTime(POLL * 3);
    h.http.expectNone('/api/providers');
  });

  it('skips polls while the tab is hidden and refreshes when it shows again', () => {
    store.start();
    list(provider('DeepInfra'));
    h.document.hidden = true;
    jest.advanceTimersByTime(POLL * 3);
    h.http.expectNone('/api/providers');
    h.document.hidden = false;
    h.document.dispatch('visibilitychange');
    list(provider('DeepInfra'));
  });

  it('switches a provider on and off with PATCH {enabled}, shows the answer at once, and refetches', async () => {
    store.start();
    list(provider('DeepInfra'), provider('Together'));
    const done = store.setEnabled('DeepInfra', false);
    expect(store.isPending('toggle:DeepInfra')).toBe(true);
    const req = live('/api/providers/DeepInfra', 'PATCH');
    expect(req.request.body).toEqual({ enabled: false });
    req.flush(provider('DeepInfra', 'disabled', { enabled: false }));
    const p = await done;
    expect(p.enabled).toBe(false);
    expect(store.isPending('toggle:DeepInfra')).toBe(false);
    expect(store.rows().map((r) => r.status)).toEqual(['disabled', 'available']);
    // The list is fetched again (a poll under way could predate the change).
    list(provider('DeepInfra', 'disabled', { enabled: false }), provider('Together'));
  });

  it('a poll under way when an action lands is cancelled: its answer may predate the action', async () => {
    store.start();
    list(provider('DeepInfra'));
    jest.advanceTimersByTime(POLL);
    const stalePoll = live('/api/providers');
    const done = store.check('DeepInfra');
    live('/api/providers/DeepInfra/health', 'POST').flush(
      provider('DeepInfra', 'available', { lastCheck: { provider: 'DeepInfra', ok: true, latencyMs: 12, checkedAt: NOW, error: null, probe: 'models' } }),
    );
    await done;
    expect(stalePoll.cancelled).toBe(true);
    expect(store.rows()[0]!.check).toMatchObject({ ok: true, latencyMs: 12 });
    list(provider('DeepInfra'));
  });

  it('rejects with the HTTP error when an action fails, and leaves the list alone', async () => {
    store.start();
    list(provider('DeepInfra'));
    const done = store.update('DeepInfra', { baseUrl: 'ftp://x' });
    live('/api/providers/DeepInfra', 'PATCH').flush(
      { error: { message: "Invalid value for 'baseUrl'", type: 'invalid_request_error', param: 'baseUrl', code: 'invalid_value' } },
      { status: 400, statusText: 'Bad Request' },
    );
    await expect(done).rejects.toMatchObject({ status: 400 });
    expect(store.isPending('update:DeepInfra')).toBe(false);
    h.http.expectNone('/api/providers');
  });

  it('checks every provider with one call', async () => {
    store.start();
    list(provider('DeepInfra'));
    const done = store.checkAll();
    expect(store.isPending('check-all')).toBe(true);
    live('/api/health/check', 'POST').flush({ results: [{ provider: 'DeepInfra', ok: true, latencyMs: 5, checkedAt: NOW, error: null, probe: 'models' }] });
    expect(await done).toHaveLength(1);
    list(provider('DeepInfra'));
  });

  it('adds, tests and removes keys', async () => {
    store.start();
    list(provider('DeepInfra'));
    const added = store.addKey('DeepInfra', { key: 'sk-new', label: '备用' });
    const req = live('/api/providers/DeepInfra/keys', 'POST');
    expect(req.request.body).toEqual({ key: 'sk-new', label: '备用' });
    const withKey = provider('DeepInfra', 'available', {
      keys: [
        ...provider('DeepInfra').keys,
        { id: 'key-2', source: 'console', label: '备用', masked: '****0new', breaker: provider('x').breaker, invalid: false },
      ],
    });
    req.flush(withKey);
    await added;
    expect(store.rows()[0]!.keys.total).toBe(2);
    list(withKey);

    const tested = store.testKey('DeepInfra', 'key-2');
    expect(store.isPending('key-test:key-2')).toBe(true);
    live('/api/providers/DeepInfra/keys/key-2/test', 'POST').flush({ ok: false, latencyMs: 30, probe: 'models', error: 'HTTP 401' });
    expect(await tested).toMatchObject({ ok: false, error: 'HTTP 401' });
    // A test changes nothing: no refetch.
    h.http.expectNone('/api/providers');

    const removed = store.removeKey('DeepInfra', 'key-2');
    live('/api/providers/DeepInfra/keys/key-2', 'DELETE').flush(null, { status: 204, statusText: 'No Content' });
    await removed;
    expect(store.rows()[0]!.keys.total).toBe(1);
    list(provider('DeepInfra'));
  });

  it('creates, replaces and deletes upstreams', async () => {
    store.start();
    list(provider('DeepInfra'));
    const body = { name: 'Home', baseUrl: 'http://h/v1', models: { m: 'm' } };
    const home = provider('Home', 'available', { custom: true, upstream: { source: 'console', models: { m: 'm' }, ownedBy: null, samplingParams: [] } });
    const created = store.createUpstream(body);
    const req = live('/api/upstreams', 'POST');
    expect(req.request.body).toEqual(body);
    req.flush(home);
    await created;
    expect(store.rows().map((r) => [r.name, r.kind])).toEqual([
      ['DeepInfra', 'builtin'],
      ['Home', 'console'],
    ]);
    list(provider('DeepInfra'), home);

    const updated = store.updateUpstream('Home', { ...body, ownedBy: 'Me' });
    live('/api/upstreams/Home', 'PATCH').flush({ ...home, upstream: { ...home.upstream!, ownedBy: 'Me' } });
    await updated;
    expect(store.provider('home')?.upstream?.ownedBy).toBe('Me');
    list(provider('DeepInfra'), home);

    const deleted = store.deleteUpstream('Home');
    live('/api/upstreams/Home', 'DELETE').flush(null, { status: 204, statusText: 'No Content' });
    await deleted;
    expect(store.rows().map((r) => r.name)).toEqual(['DeepInfra']);
    list(provider('DeepInfra'));
    await settle();
  });

  it('names go into URLs encoded', async () => {
    store.start();
    list(provider('a b'));
    void store.check('a b');
    live('/api/providers/a%20b/health', 'POST').flush(provider('a b'));
    await settle();
    list(provider('a b'));
  });
});
