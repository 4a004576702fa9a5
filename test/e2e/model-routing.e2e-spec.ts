/**
 * Per-model routing set through the admin API (模型浏览 in the console): a model's own route
 * order and weights change who answers it, in the proportions set, and nobody else's; a model
 * forced to one provider is answered by it while it can serve, and fails over (logged) when it
 * cannot. DeepInfra and Together both serve llama-3.3-70b and deepseek-v3; the others are off.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelRouting, ModelRoutingList, RequestLogPage } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { CapturingLogger } from '../support/capturing-logger.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { adminCall, answerers as answerersOf } from '../support/routing.ts';

const MODEL = 'llama-3.3-70b';
const OTHER = 'deepseek-v3';
const TWO_PROVIDERS = {
  HUGGINGFACE_ENABLED: 'false',
  POLLINATIONS_ENABLED: 'false',
  CLOUDFLARE_ENABLED: 'false',
};

/** The gateway's log, to see a failover away from a forced provider said out loud. */
const logger = new CapturingLogger();

let emu: Emulator;
let gw: Gateway;
let auth: Record<string, string>;
let dataDir: string;

const start = async () => {
  gw = await startGateway(emu, { ...TWO_PROVIDERS, DATA_DIR: dataDir }, { logger });
  auth = await adminHeaders(gw);
};

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  dataDir = mkdtempSync(join(tmpdir(), 'g4f-model-routing-'));
  await start();
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
afterEach(() => emu.reset());

const api = <T>(method: string, path: string, body?: unknown) => adminCall<T>(gw, auth, method, path, body);
const answerers = (model: string, n: number, batch?: number) => answerersOf(gw, model, n, batch);

const share = (counts: Map<string, number>, provider: string, n: number) => (counts.get(provider) ?? 0) / n;

it('a model without its own routing shows the providers’ settings; bad settings are refused naming the field', async () => {
  const view = await api<ModelRouting>('GET', `/api/routing/models/${MODEL}`);
  expect(view.status).toBe(200);
  expect(view.body).toMatchObject({ model: MODEL, strategy: 'random', custom: false, forced: null, updatedAt: null });
  expect(view.body.routes.map((r) => [r.provider, r.weight, r.position, r.overridden])).toEqual([
    ['DeepInfra', 1, null, false],
    ['Together', 1, null, false],
    ['HuggingFace', 1, null, false],
    ['PollinationsAI', 1, null, false],
  ]);
  expect((await api<ModelRoutingList>('GET', '/api/routing/models')).body).toEqual({ items: [] });

  const bad = await api<{ error: { param: string; code: string } }>('PATCH', `/api/routing/models/${MODEL}`, {
    routes: [{ provider: 'Together', weight: 101 }],
  });
  expect(bad.status).toBe(400);
  expect(bad.body.error).toMatchObject({ param: 'routes[0].weight' });
  const stranger = await api<{ error: { param: string; code: string } }>('PATCH', `/api/routing/models/${MODEL}`, { forced: 'Cloudflare' });
  expect(stranger.status).toBe(400);
  expect(stranger.body.error).toMatchObject({ param: 'forced', code: 'provider_model_mismatch' });
  expect((await api('PATCH', '/api/routing/models/no-such-model', { forced: null })).status).toBe(404);
  expect((await fetch(`${gw.url}/api/routing/models/${MODEL}`, { method: 'PATCH' })).status).toBe(401);
});

it('weighted random: the model’s own weights 1 and 3 share its first tries about 1 to 3, while another model keeps the providers’ 3 to 1', async () => {
  await api('PATCH', '/api/providers/DeepInfra', { weight: 3 });
  await api('PATCH', '/api/providers/Together', { weight: 1 });
  const set = await api<ModelRouting>('PATCH', `/api/routing/models/${MODEL}`, {
    routes: [
      { provider: 'together', weight: 3 },
      { provider: 'DeepInfra', weight: 1 },
    ],
  });
  expect(set.status).toBe(200);
  expect(set.body.custom).toBe(true);
  expect(set.body.routes.slice(0, 2)).toEqual([
    expect.objectContaining({ provider: 'Together', weight: 3, position: 1, providerWeight: 1, overridden: true }),
    expect.objectContaining({ provider: 'DeepInfra', weight: 1, position: 2, providerWeight: 3, overridden: true }),
  ]);

  const n = 400;
  const [mine, other] = await Promise.all([answerers(MODEL, n), answerers(OTHER, n)]);
  // 3 / (3 + 1) = 0.75 either way round; with 400 draws the standard deviation is about 0.022.
  expect(share(mine, 'Together', n)).toBeGreaterThan(0.68);
  expect(share(mine, 'Together', n)).toBeLessThan(0.82);
  expect(share(other, 'DeepInfra', n)).toBeGreaterThan(0.68);
  expect(share(other, 'DeepInfra', n)).toBeLessThan(0.82);

  // Weight 0 for the model: only a last resort, for it alone.
  await api('PATCH', `/api/routing/models/${MODEL}`, { routes: [{ provider: 'DeepInfra', weight: 0 }] });
  expect(Object.fromEntries(await answerers(MODEL, 40))).toEqual({ Together: 40 });
  const list = await api<ModelRoutingList>('GET', '/api/routing/models');
  expect(list.body.items.map((m) => m.model)).toEqual([MODEL]);

  // Reset: the providers' weights again (DeepInfra 3 : Together 1).
  expect((await api<ModelRouting>('DELETE', `/api/routing/models/${MODEL}`)).body).toMatchObject({ custom: false, forced: null });
  expect(share(await answerers(MODEL, n), 'DeepInfra', n)).toBeGreaterThan(0.68);
  await api('PATCH', '/api/providers/DeepInfra', { weight: null });
  await api('PATCH', '/api/providers/Together', { weight: null });
});

it('priority: the model’s order answers every time, whatever the providers’ priorities; other models follow those', async () => {
  await api('PUT', '/api/routing', { strategy: 'priority' });
  await api('PATCH', '/api/providers/DeepInfra', { priority: 1 });
  await api('PATCH', '/api/providers/Together', { priority: 2 });
  await api('PATCH', `/api/routing/models/${MODEL}`, {
    routes: [
      { provider: 'Together', weight: 1 },
      { provider: 'DeepInfra', weight: 1 },
    ],
  });
  expect(Object.fromEntries(await answerers(MODEL, 20))).toEqual({ Together: 20 });
  expect(Object.fromEntries(await answerers(OTHER, 20))).toEqual({ DeepInfra: 20 });
  await api('DELETE', `/api/routing/models/${MODEL}`);
  expect(Object.fromEntries(await answerers(MODEL, 20))).toEqual({ DeepInfra: 20 });
  await api('PUT', '/api/routing', { strategy: null });
});

it('forced: the provider answers every time while it can; when it fails or is off, the others answer and it is logged', async () => {
  const forced = await api<ModelRouting>('PATCH', `/api/routing/models/${MODEL}`, { forced: 'together' });
  expect(forced.body).toMatchObject({ forced: 'Together', custom: false });
  expect(Object.fromEntries(await answerers(MODEL, 40))).toEqual({ Together: 40 });

  // It fails: failover as usual, and the request log has the failed attempt.
  emu.addFault({ provider: 'together', mode: 'status', status: 500, times: 1 });
  const res = await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
  const requestId = res.headers.get('x-request-id');
  let entry: RequestLogPage['items'][number] | undefined;
  for (let i = 0; i < 50 && !entry; i++) {
    const page = await api<RequestLogPage>('GET', `/api/logs?model=${MODEL}&pageSize=20`);
    entry = page.body.items.find((e) => e.requestId === requestId);
    if (!entry) await new Promise((r) => setTimeout(r, 100));
  }
  expect(entry?.attempts.map((a) => [a.provider, a.reason === 'ok'])).toEqual([
    ['Together', false],
    ['DeepInfra', true],
  ]);

  // It is switched off: the others serve, and the log says the forced provider could not.
  logger.lines.length = 0;
  await api('POST', '/api/providers/Together/toggle');
  expect(Object.fromEntries(await answerers(MODEL, 10))).toEqual({ DeepInfra: 10 });
  expect(logger.lines.filter((w) => w.includes(`${MODEL} is forced to together`))).toHaveLength(1);
  await api('POST', '/api/providers/Together/toggle');
  expect(Object.fromEntries(await answerers(MODEL, 10))).toEqual({ Together: 10 });
});

it('is stored: a restart with the same data keeps the model’s routing', async () => {
  await api('PATCH', `/api/routing/models/${MODEL}`, { routes: [{ provider: 'DeepInfra', weight: 7 }] });
  await gw.close();
  await start();
  const view = await api<ModelRouting>('GET', `/api/routing/models/${MODEL}`);
  expect(view.body).toMatchObject({ custom: true, forced: 'Together' });
  expect(view.body.routes[0]).toMatchObject({ provider: 'DeepInfra', weight: 7, position: 1 });
  expect(Object.fromEntries(await answerers(MODEL, 10))).toEqual({ Together: 10 });
});
