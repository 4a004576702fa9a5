import type { DiscoveryRefreshResult, ModelDiscovery } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { model, models, provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { ModelsStore } from './models.store';
import { routing } from './routing-editor.testing';

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function refreshResult(name: string): DiscoveryRefreshResult {
  return {
    provider: name,
    fetchedAt: 1,
    ok: true,
    error: null,
    modelCount: 3,
    listedAt: 1,
    skipped: null,
    refreshing: false,
    attempted: true,
    routes: { confirmed: 2, missing: 1, unknown: 0 },
    changed: [],
  };
}

describe('ModelsStore', () => {
  let h: Harness;
  let store: ModelsStore;

  beforeEach(() => {
    h = createHarness([ModelsStore]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    store = h.get(ModelsStore);
  });
  afterEach(() => {
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
  });

  function answerLoad(list = models([model('llama-3.3-70b', [['DeepInfra'], ['Together', false]])])): void {
    h.http.expectOne('/api/models').flush(list);
    // Earlier loads that failed left their (cancelled) providers' calls behind.
    const providers = h.http.match('/api/providers').filter((r) => !r.cancelled);
    expect(providers).toHaveLength(1);
    providers[0]!.flush([provider('DeepInfra'), provider('Together')]);
    const routings = h.http.match('/api/routing/models').filter((r) => !r.cancelled);
    expect(routings).toHaveLength(1);
    routings[0]!.flush({ items: [] });
  }

  it('loads the catalog and the providers, with the session token', async () => {
    expect(store.status()).toBe('loading');
    const done = store.load();
    expect(store.busy()).toBe(true);
    const req = h.http.expectOne('/api/models');
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok');
    req.flush(models([model('gpt-4o', [['PollinationsAI']])]));
    h.http.expectOne('/api/providers').flush([provider('PollinationsAI')]);
    h.http.expectOne('/api/routing/models').flush({ items: [routing({ model: 'gpt-4o', forced: 'PollinationsAI' })] });
    await done;
    expect(store.status()).toBe('ready');
    expect(store.list()!.models.map((m) => m.id)).toEqual(['gpt-4o']);
    expect(store.providers()!.map((p) => p.name)).toEqual(['PollinationsAI']);
    expect(store.routings().get('gpt-4o')?.forced).toBe('PollinationsAI');
    expect(store.busy()).toBe(false);
    expect(store.updatedAt()).not.toBeNull();
  });

  it('works without the providers or the per-model routing when those calls fail', async () => {
    const done = store.load();
    h.http.expectOne('/api/models').flush(models([]));
    const boom = { error: { message: 'boom', type: 'server_error', param: null, code: null } };
    h.http.expectOne('/api/providers').flush(boom, { status: 500, statusText: 'Error' });
    h.http.expectOne('/api/routing/models').flush(boom, { status: 500, statusText: 'Error' });
    await done;
    expect(store.status()).toBe('ready');
    expect(store.providers()).toBeNull();
    expect(store.routings().size).toBe(0);
  });

  it('says when the API is unreachable or fails, and keeps the last data when a reload fails', async () => {
    let done = store.load();
    h.http.expectOne('/api/models').error(new Event('error') as ProgressEvent, { status: 0 });
    // forkJoin cancels the providers' call with it.
    await done;
    expect(store.status()).toBe('unreachable');

    done = store.load();
    h.http
      .expectOne('/api/models')
      .flush({ error: { message: 'db down', type: 'server_error', param: null, code: null } }, { status: 500, statusText: 'Error' });
    await done;
    expect(store.status()).toBe('error');
    expect(store.failure()!.message).toContain('HTTP 500');

    done = store.load();
    answerLoad();
    await done;
    expect(store.status()).toBe('ready');
    expect(store.stale()).toBe(false);

    done = store.load();
    h.http.expectOne('/api/models').error(new Event('error') as ProgressEvent, { status: 0 });
    await done;
    expect(store.status()).toBe('ready');
    expect(store.stale()).toBe(true);
    expect(store.list()!.models).toHaveLength(1);
  });

  it('refreshes discovery, keeps the result and reloads the catalog', async () => {
    const done = store.refreshDiscovery();
    expect(store.refreshing()).toBe(true);
    // A second press while it runs does nothing.
    expect(await store.refreshDiscovery()).toBeNull();
    const req = h.http.expectOne('/api/discovery/refresh');
    expect(req.request.method).toBe('POST');
    req.flush([refreshResult('DeepInfra'), refreshResult('Together')]);
    await flush();
    answerLoad();
    const outcome = await done;
    expect(outcome).toEqual({ ok: true, value: [refreshResult('DeepInfra'), refreshResult('Together')] });
    expect(store.lastRefresh()!.results).toHaveLength(2);
    expect(store.list()).not.toBeNull();
    expect(store.refreshing()).toBe(false);
  });

  it('reports a failed refresh without reloading', async () => {
    const done = store.refreshDiscovery();
    h.http
      .expectOne('/api/discovery/refresh')
      .flush({ error: { message: 'nope', type: 'server_error', param: null, code: null } }, { status: 500, statusText: 'Error' });
    const outcome = await done;
    expect(outcome?.ok).toBe(false);
    if (outcome && !outcome.ok) expect(outcome.failure.detail).toBe('nope');
    h.http.expectNone('/api/models');
    expect(store.lastRefresh()).toBeNull();
    expect(store.refreshing()).toBe(false);
  });

  it('pins and unpins a route, putting the answer into the list', async () => {
    let done = store.load();
    answerLoad();
    await done;

    const pinned: ModelDiscovery = {
      model: 'llama-3.3-70b',
      routes: [
        { provider: 'DeepInfra', upstream_model: 'llama-3.3-70b', state: 'confirmed', pinned: false, pinnedBy: null, checkedAt: 1, routable: true },
        { provider: 'Together', upstream_model: 'llama-3.3-70b', state: 'missing', pinned: true, pinnedBy: 'operator', checkedAt: 1, routable: true },
      ],
    };
    const pin = store.pin('llama-3.3-70b', 'Together');
    expect(store.isPinning('llama-3.3-70b', 'together')).toBe(true);
    const req = h.http.expectOne('/api/models/llama-3.3-70b/routes/Together/pin');
    expect(req.request.method).toBe('POST');
    req.flush(pinned);
    expect(await pin).toEqual({ ok: true, value: pinned });
    expect(store.isPinning('llama-3.3-70b', 'Together')).toBe(false);
    expect(store.list()!.models[0]!.routes[1]!.pinnedBy).toBe('operator');

    const unpin = store.unpin('llama-3.3-70b', 'Together');
    const del = h.http.expectOne('/api/models/llama-3.3-70b/routes/Together/pin');
    expect(del.request.method).toBe('DELETE');
    del.flush({ ...pinned, routes: [pinned.routes[0]!, { ...pinned.routes[1]!, pinned: false, pinnedBy: null, routable: false }] });
    await unpin;
    expect(store.list()!.models[0]!.routes[1]!.pinned).toBe(false);

    // Ids with slashes or colons are encoded into one path segment.
    done = store.pin('org/model:free', 'My Upstream').then(() => undefined);
    h.http.expectOne('/api/models/org%2Fmodel%3Afree/routes/My%20Upstream/pin').flush({ model: 'org/model:free', routes: [] });
    await done;
  });

  it('reports a failed pin and leaves the list alone', async () => {
    const load = store.load();
    answerLoad();
    await load;
    const before = store.list();
    const pin = store.pin('llama-3.3-70b', 'Nope');
    h.http
      .expectOne('/api/models/llama-3.3-70b/routes/Nope/pin')
      .flush(
        { error: { message: 'Unknown provider `Nope`.', type: 'not_found_error', param: 'provider', code: 'provider_not_found' } },
        { status: 404, statusText: 'Not Found' },
      );
    const outcome = await pin;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.failure).toMatchObject({ kind: 'request', code: 'provider_not_found' });
    expect(store.list()).toBe(before);
    expect(store.pinning().size).toBe(0);
  });
});
