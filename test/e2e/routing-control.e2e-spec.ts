/**
 * Routing steered from the console: the strategy chosen through the admin API is stored (a
 * restart keeps it) and decides who answers; priorities order the providers under `priority`;
 * weights set the proportions under weighted-random routing. DeepInfra and Together both serve
 * the model; the other providers are off.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoutingSettings } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { startGateway, type Gateway } from '../support/gateway.ts';
import { adminCall, answerers as answerersOf } from '../support/routing.ts';

const MODEL = 'llama-3.3-70b';
const TWO_PROVIDERS = {
  HUGGINGFACE_ENABLED: 'false',
  POLLINATIONS_ENABLED: 'false',
  CLOUDFLARE_ENABLED: 'false',
};

let emu: Emulator;
let gw: Gateway;
let auth: Record<string, string>;
let dataDir: string;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  dataDir = mkdtempSync(join(tmpdir(), 'g4f-routing-'));
  gw = await startGateway(emu, { ...TWO_PROVIDERS, DATA_DIR: dataDir });
  auth = await adminHeaders(gw);
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
afterEach(() => emu.reset());

const api = <T>(method: string, path: string, body?: unknown) => adminCall<T>(gw, auth, method, path, body);
/** Who answered each of `n` requests, sent `batch` at a time. */
const answerers = (n: number, batch?: number) => answerersOf(gw, MODEL, n, batch);

it('starts with ROUTING_STRATEGY and says where the strategy in force comes from; unknown strategies are refused', async () => {
  expect((await api<RoutingSettings>('GET', '/api/routing')).body).toEqual({ strategy: 'random', source: 'config', default: 'random' });
  const bad = await api<{ error: { code: string; param: string } }>('PUT', '/api/routing', { strategy: 'round-robin' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.param).toBe('strategy');
  expect((await fetch(`${gw.url}/api/routing`)).status).toBe(401);
});

it('priority: set in the console, the lower priority answers every time, and changing them changes who answers', async () => {
  expect((await api<RoutingSettings>('PUT', '/api/routing', { strategy: 'priority' })).body).toEqual({
    strategy: 'priority',
    source: 'console',
    default: 'random',
  });
  await api('PATCH', '/api/providers/DeepInfra', { priority: 2 });
  await api('PATCH', '/api/providers/Together', { priority: 1 });
  expect(Object.fromEntries(await answerers(20))).toEqual({ Together: 20 });
  await api('PATCH', '/api/providers/DeepInfra', { priority: 0 });
  expect(Object.fromEntries(await answerers(20))).toEqual({ DeepInfra: 20 });
});

it('weighted random: weights 3 and 1 share the first tries about 3 to 1; weight 0 is only a last resort', async () => {
  await api('PUT', '/api/routing', { strategy: 'random' });
  const deepinfra = await api<{ weight: number; overridden: string[] }>('PATCH', '/api/providers/DeepInfra', { weight: 3 });
  expect(deepinfra.body).toMatchObject({ weight: 3, overridden: expect.arrayContaining(['weight']) });
  await api('PATCH', '/api/providers/Together', { weight: 1 });
  const n = 400;
  const counts = await answerers(n);
  const share = (counts.get('DeepInfra') ?? 0) / n;
  // 3 / (3 + 1) = 0.75; with 400 draws the standard deviation is about 0.022.
  expect(share).toBeGreaterThan(0.68);
  expect(share).toBeLessThan(0.82);

  await api('PATCH', '/api/providers/Together', { weight: 0 });
  expect(Object.fromEntries(await answerers(40))).toEqual({ DeepInfra: 40 });
  // ...but it still answers when the weighted one fails.
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 2 });
  expect(Object.fromEntries(await answerers(1, 1))).toEqual({ Together: 1 });
  const bad = await api<{ error: { param: string } }>('PATCH', '/api/providers/Together', { weight: 101 });
  expect(bad.status).toBe(400);
  // null goes back to the default weight.
  expect((await api<{ weight: number }>('PATCH', '/api/providers/Together', { weight: null })).body.weight).toBe(1);
});

it('the chosen strategy is stored: a restart with the same data keeps it; null goes back to ROUTING_STRATEGY', async () => {
  await api('PUT', '/api/routing', { strategy: 'latency' });
  await gw.close();
  gw = await startGateway(emu, { ...TWO_PROVIDERS, DATA_DIR: dataDir });
  auth = await adminHeaders(gw);
  expect((await api<RoutingSettings>('GET', '/api/routing')).body).toEqual({ strategy: 'latency', source: 'console', default: 'random' });
  expect((await api<RoutingSettings>('PUT', '/api/routing', { strategy: null })).body).toEqual({ strategy: 'random', source: 'config', default: 'random' });
});
