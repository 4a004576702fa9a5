/**
 * Live model discovery against the emulators: each provider's model list is fetched at start
 * (without holding startup up), on demand and on a schedule; a route whose upstream id a
 * provider stops listing is skipped by routing unless pinned; a failing list endpoint keeps
 * the last known state; the state survives a restart with the same DATA_DIR.
 *
 * `llama-3.3-70b` is served by DeepInfra, Together, HuggingFace and PollinationsAI; with
 * ROUTING_STRATEGY=priority DeepInfra goes first, so "DeepInfra is skipped" is visible as
 * "Together answered and DeepInfra got no chat request".
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiscoverySnapshot, ModelDiscovery } from '#contracts';
import { DiscoveryService } from '../../apps/api/src/models/discovery.service.ts';
import { ProviderRegistry } from '../../apps/api/src/providers/provider-registry.service.ts';
import { startEmulator, type Emulator, type Fault, type ProviderId, type RecordedRequest } from '../emulators/emulator.ts';
import { loadDefaultModelLists, type ModelLists } from '../emulators/model-lists.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const DEEPINFRA_ID = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const NOT_OFFERED = 'not offered by the provider (discovery)';
const BUILTIN: readonly { id: ProviderId; name: string }[] = [
  { id: 'pollinations', name: 'PollinationsAI' },
  { id: 'deepinfra', name: 'DeepInfra' },
  { id: 'together', name: 'Together' },
  { id: 'huggingface', name: 'HuggingFace' },
  { id: 'cloudflare', name: 'CloudflareAI' },
];

const ENV = {
  DISCOVERY_INTERVAL_MINUTES: '60',
  ROUTING_STRATEGY: 'priority',
  DEEPINFRA_PRIORITY: '1',
  TOGETHER_PRIORITY: '2',
  HUGGINGFACE_PRIORITY: '3',
  POLLINATIONS_PRIORITY: '4',
  CLOUDFLARE_PRIORITY: '5',
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '500',
  UPSTREAM_IDLE_TIMEOUT_MS: '500',
  // A provider answering 404 for a pinned-but-gone model must not be cooled by it.
  BREAKER_FAILURE_THRESHOLD: '1000',
};

let emu: Emulator;
let defaults: ModelLists;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  defaults = loadDefaultModelLists();
});

afterAll(async () => {
  await emu?.close();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const discovery = (gw: Gateway) => gw.app.get(DiscoveryService);
const isChat = (r: RecordedRequest) => r.method === 'POST';
const isModels = (r: RecordedRequest) => r.method === 'GET';
const without = (ids: readonly string[], drop: string) => ids.filter((id) => id !== drop);

function route(snapshot: DiscoverySnapshot | ModelDiscovery, provider: string, model = MODEL) {
  const m = 'models' in snapshot ? snapshot.models.find((x) => x.model === model) : snapshot;
  const r = m?.routes.find((x) => x.provider === provider);
  if (!r) throw new Error(`no ${provider} route for ${model}`);
  return r;
}

const providerOf = (snapshot: DiscoverySnapshot, name: string) => snapshot.providers.find((p) => p.provider === name)!;

/** Waits until no fetch is under way and every built-in provider has been tried. */
async function settled(gw: Gateway, withinMs = 5000): Promise<DiscoverySnapshot> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const snap = discovery(gw).snapshot();
    const done = BUILTIN.every(({ name }) => {
      const p = providerOf(snap, name);
      return !p.refreshing && p.fetchedAt !== null;
    });
    if (done) return snap;
    if (Date.now() > deadline) throw new Error(`discovery did not settle: ${JSON.stringify(snap.providers)}`);
    await sleep(20);
  }
}

async function ask(gw: Gateway, body: Record<string, unknown> = {}): Promise<{ status: number; provider: string | null; message?: string }> {
  const res = await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'which one?' }], ...body });
  if (res.status === 200) {
    await res.arrayBuffer();
    return { status: 200, provider: res.headers.get('x-pool-provider') };
  }
  const err = (await res.json()) as { error: { message: string } };
  return { status: res.status, provider: null, message: err.error.message };
}

describe('startup', () => {
  it('does not wait for slow model lists, and shutdown does not wait for them either', async () => {
    for (const { id } of BUILTIN) emu.addFault({ provider: id, path: 'models', mode: 'hang' });
    const gw = await startGateway(emu, { ...ENV, UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '5000', UPSTREAM_TIMEOUT_MS: '10000' });
    try {
      // The app is up and serving while every list is still on its way.
      const snap = discovery(gw).snapshot();
      for (const { name } of BUILTIN) expect(providerOf(snap, name)).toMatchObject({ refreshing: true, fetchedAt: null });
      expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
      for (const { id } of BUILTIN) expect(emu.requests(id).filter(isModels)).toHaveLength(1);
    } finally {
      const t0 = Date.now();
      await gw.close();
      expect(Date.now() - t0).toBeLessThan(2000);
      emu.reset();
    }
  });
});

describe('discovery with one gateway', () => {
  let gw: Gateway;
  const dataDir = mkdtempSync(join(tmpdir(), 'g4f-discovery-'));

  beforeAll(async () => {
    gw = await startGateway(emu, { ...ENV, DATA_DIR: dataDir });
  });

  afterAll(async () => {
    await gw?.close();
  });

  afterEach(() => emu.reset());

  it('fetches every provider’s list at start, with a key from its pool, and confirms the catalog routes', async () => {
    const snap = await settled(gw);
    for (const { id, name } of BUILTIN) {
      expect(providerOf(snap, name)).toMatchObject({ ok: true, error: null, modelCount: defaults[id].length, skipped: null });
      const calls = emu.requests(id);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.method).toBe('GET');
    }
    expect(emu.requests('deepinfra')[0]!.headers.authorization).toBe('Bearer di-good-key-0001');
    expect(emu.requests('cloudflare')[0]!.path).toMatch(/^\/cloudflare\/client\/v4\/accounts\/acct-123\/ai\/models\/search/);
    for (const name of ['DeepInfra', 'Together', 'HuggingFace', 'PollinationsAI']) {
      expect(route(snap, name)).toMatchObject({ state: 'confirmed', pinned: false, routable: true });
      expect(route(snap, name).checkedAt).toBe(providerOf(snap, name).listedAt);
    }
  });

  it('marks a route missing when the provider stops listing it; routing then skips that provider', async () => {
    emu.setModels('deepinfra', without(defaults.deepinfra, DEEPINFRA_ID));
    const [result] = await discovery(gw).refresh('DeepInfra');
    expect(result).toMatchObject({ provider: 'DeepInfra', attempted: true, ok: true, modelCount: defaults.deepinfra.length - 1 });
    expect(result!.changed).toContainEqual({ model: MODEL, upstream_model: DEEPINFRA_ID, from: 'confirmed', to: 'missing' });
    expect(route(discovery(gw).snapshot(), 'DeepInfra')).toMatchObject({ state: 'missing', pinned: false, routable: false });

    for (let i = 0; i < 4; i++) expect(await ask(gw, { stream: i % 2 === 1 })).toEqual({ status: 200, provider: 'Together' });
    expect(emu.requests('deepinfra').filter(isChat)).toEqual([]);
    expect(emu.requests('together').filter(isChat)).toHaveLength(4);

    // Other models of DeepInfra are untouched.
    expect(await ask(gw, { model: 'deepseek-v3' })).toEqual({ status: 200, provider: 'DeepInfra' });

    // Forcing the provider says why it is not used.
    const forced = await ask(gw, { provider: 'DeepInfra' });
    expect(forced.status).toBe(503);
    expect(forced.message).toContain(`DeepInfra: ${NOT_OFFERED}`);
  });

  it('a pinned route is routed to again, and unpinning skips it again', async () => {
    // The list is stale (the model is back, but no refresh yet): the operator pins the route.
    expect(route(discovery(gw).snapshot(), 'DeepInfra').state).toBe('missing');
    const pinned = await discovery(gw).pin(MODEL, 'deepinfra');
    expect(route(pinned, 'DeepInfra')).toMatchObject({ state: 'missing', pinned: true, pinnedBy: 'operator', routable: true });
    expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
    expect(emu.requests('deepinfra').filter(isChat)).toHaveLength(1);

    const unpinned = await discovery(gw).unpin(MODEL, 'DeepInfra');
    expect(route(unpinned, 'DeepInfra')).toMatchObject({ pinned: false, routable: false });
    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    expect(emu.requests('deepinfra').filter(isChat)).toHaveLength(1);
  });

  it.each<[string, Omit<Fault, 'provider' | 'path'>, RegExp]>([
    ['HTTP 500', { mode: 'status', status: 500 }, /HTTP 500/],
    ['an HTML page', { mode: 'html200' }, /HTML/],
    ['garbage', { mode: 'garbage200' }, /not JSON|invalid/],
    ['a reset connection', { mode: 'reset' }, /network/],
    ['no answer', { mode: 'hang' }, /timeout/],
  ])('a models endpoint answering %s keeps the previous state', async (_name, fault, error) => {
    const before = discovery(gw).snapshot();
    expect(route(before, 'DeepInfra').state).toBe('missing');
    emu.addFault({ provider: 'deepinfra', path: 'models', ...fault });
    const [result] = await discovery(gw).refresh('DeepInfra');
    expect(result).toMatchObject({
      ok: false,
      changed: [],
      listedAt: providerOf(before, 'DeepInfra').listedAt,
      modelCount: providerOf(before, 'DeepInfra').modelCount,
    });
    expect(result!.error).toMatch(error);
    const after = discovery(gw).snapshot();
    expect(route(after, 'DeepInfra')).toMatchObject({ state: 'missing', checkedAt: route(before, 'DeepInfra').checkedAt });
    expect(route(after, 'Together').state).toBe('confirmed');
    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
  });

  it('an empty list is not believed', async () => {
    emu.setModels('deepinfra', []);
    const [result] = await discovery(gw).refresh('DeepInfra');
    expect(result).toMatchObject({ ok: false, error: 'the provider listed no models' });
    expect(route(discovery(gw).snapshot(), 'DeepInfra').state).toBe('missing');
    expect(route(discovery(gw).snapshot(), 'DeepInfra', 'deepseek-v3').state).toBe('confirmed');
  });

  it('refresh on demand brings a returning model back into rotation', async () => {
    // emu.reset() restored the full lists.
    const results = await discovery(gw).refresh();
    expect(results.map((r) => r.provider).sort()).toEqual(BUILTIN.map((p) => p.name).sort());
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.find((r) => r.provider === 'DeepInfra')!.changed).toContainEqual({
      model: MODEL,
      upstream_model: DEEPINFRA_ID,
      from: 'missing',
      to: 'confirmed',
    });
    expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
  });

  it('a 401 on the models endpoint neither poisons the key nor the route', async () => {
    emu.addFault({ provider: 'deepinfra', path: 'models', mode: 'status', status: 401, key: 'di-good-key-0001' });
    // Three auth failures in a row would mark a key invalid if discovery counted them.
    for (let i = 0; i < 3; i++) {
      const [result] = await discovery(gw).refresh('DeepInfra');
      expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/HTTP 401/) });
    }
    const deepinfra = gw.app.get(ProviderRegistry).find('DeepInfra')!;
    expect(deepinfra.keys.view()).toEqual([
      expect.objectContaining({ invalid: false, breaker: expect.objectContaining({ state: 'closed', consecutiveFailures: 0 }) }),
    ]);
    expect(deepinfra.status().status).toBe('available');
    expect(route(discovery(gw).snapshot(), 'DeepInfra').state).toBe('confirmed');
    expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
    expect(
      emu
        .requests('deepinfra')
        .filter(isChat)
        .map((r) => r.headers.authorization),
    ).toEqual(['Bearer di-good-key-0001']);
  });

  it('a missing route and a pin survive a restart with the same DATA_DIR', async () => {
    emu.setModels('deepinfra', without(defaults.deepinfra, DEEPINFRA_ID));
    emu.setModels('together', without(defaults.together, 'deepseek-ai/DeepSeek-V3'));
    await discovery(gw).refresh();
    await discovery(gw).pin('deepseek-v3', 'Together');
    const before = discovery(gw).snapshot();
    expect(route(before, 'DeepInfra').state).toBe('missing');
    await gw.close();

    // Restarted with automatic discovery off: exactly the stored state, pins included.
    emu.reset();
    gw = await startGateway(emu, { ...ENV, DATA_DIR: dataDir, DISCOVERY_INTERVAL_MINUTES: '0' });
    const stored = discovery(gw).snapshot();
    expect(emu.requests()).toEqual([]);
    expect(providerOf(stored, 'DeepInfra')).toMatchObject({ ok: true, listedAt: providerOf(before, 'DeepInfra').listedAt });
    expect(route(stored, 'DeepInfra')).toMatchObject({ state: 'missing', checkedAt: route(before, 'DeepInfra').checkedAt });
    expect(route(stored, 'Together', 'deepseek-v3')).toMatchObject({ state: 'missing', pinned: true, pinnedBy: 'operator', routable: true });
    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    expect(emu.requests('deepinfra')).toEqual([]);
    await gw.close();

    // Restarted with discovery on: the lists are back in full, but DeepInfra's models endpoint
    // now fails, so its stored state must stand.
    emu.reset();
    emu.addFault({ provider: 'deepinfra', path: 'models', mode: 'status', status: 503 });
    gw = await startGateway(emu, { ...ENV, DATA_DIR: dataDir });
    const after = await settled(gw);
    expect(providerOf(after, 'DeepInfra')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/HTTP 503/),
      listedAt: providerOf(before, 'DeepInfra').listedAt,
    });
    expect(route(after, 'DeepInfra')).toMatchObject({ state: 'missing', routable: false });
    // Together's list came back in full at start: confirmed again, and still pinned.
    expect(route(after, 'Together', 'deepseek-v3')).toMatchObject({ state: 'confirmed', pinned: true });

    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    expect(emu.requests('deepinfra').filter(isChat)).toEqual([]);
  });
});
