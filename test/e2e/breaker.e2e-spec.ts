/**
 * Circuit breakers and key pools, observed from outside: which upstream requests the
 * emulator actually receives while a provider or a key is cooling down.
 *
 * Routing is deterministic (ROUTING_STRATEGY=priority): for `llama-3.3-70b` DeepInfra goes
 * first and Together answers when DeepInfra is skipped or fails.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../emulators/emulator.ts';
import type { Emulator, RecordedRequest } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, startGateway } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const THRESHOLD = 2;
const COOLDOWN_MS = 300;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterAll(async () => {
  await emu?.close();
});

interface Served {
  status: number;
  provider: string | null;
}

async function ask(gw: Gateway, model = MODEL, stream = false): Promise<Served> {
  const res = await postJson(`${gw.baseURL}/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }], stream });
  await res.arrayBuffer();
  return { status: res.status, provider: res.headers.get('x-pool-provider') };
}

function authOf(r: RecordedRequest): string {
  const h = r.headers.authorization;
  return Array.isArray(h) ? h.join(',') : (h ?? '');
}

describe('provider circuit breaker', () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startGateway(emu, {
      ROUTING_STRATEGY: 'priority',
      DEEPINFRA_PRIORITY: '1',
      TOGETHER_PRIORITY: '2',
      HUGGINGFACE_PRIORITY: '3',
      POLLINATIONS_PRIORITY: '4',
      BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
      BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
      BREAKER_MAX_COOLDOWN_MS: '5000',
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '1000',
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  afterEach(async () => {
    // Leave DeepInfra's breaker closed for the next test.
    emu.clearFaults();
    const deadline = Date.now() + 3000;
    while ((await ask(gw)).provider !== 'DeepInfra') {
      if (Date.now() > deadline) throw new Error('DeepInfra did not come back after its cooldown');
      await sleep(50);
    }
    emu.reset();
  });

  /** Two consecutive 500s on DeepInfra (both served by Together); returns when the breaker has opened. */
  async function openDeepInfra(): Promise<number> {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: THRESHOLD });
    const before = emu.requests('deepinfra').length;
    for (let i = 0; i < THRESHOLD; i++) expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    const openedAt = Date.now();
    expect(emu.requests('deepinfra')).toHaveLength(before + THRESHOLD);
    return openedAt;
  }

  it('opens after consecutive failures, skips the provider, then one probe closes it', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500 });
    // Below the threshold the provider is still tried.
    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    expect(emu.requests('deepinfra')).toHaveLength(1);
    expect(await ask(gw, MODEL, true)).toEqual({ status: 200, provider: 'Together' });
    const openedAt = Date.now();
    expect(emu.requests('deepinfra')).toHaveLength(2);

    // Open: skipped without a request, even once it would answer again.
    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    expect(await ask(gw, MODEL, true)).toEqual({ status: 200, provider: 'Together' });
    emu.clearFaults();
    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    expect(Date.now() - openedAt).toBeLessThan(COOLDOWN_MS); // the assertions above ran inside the window
    expect(emu.requests('deepinfra')).toHaveLength(2);
    expect(emu.requests('together')).toHaveLength(5);

    // After the cooldown one probe goes through; its success closes the breaker.
    await sleep(COOLDOWN_MS + 50 - (Date.now() - openedAt));
    expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
    expect(emu.requests('deepinfra')).toHaveLength(3);
    expect(await ask(gw, MODEL, true)).toEqual({ status: 200, provider: 'DeepInfra' });
    expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
    expect(emu.requests('deepinfra')).toHaveLength(5);
    expect(emu.requests('together')).toHaveLength(5);
  });

  it('lets exactly one probe through while half-open', async () => {
    const openedAt = await openDeepInfra();
    await sleep(COOLDOWN_MS + 50 - (Date.now() - openedAt));
    const before = emu.requests('deepinfra').length;
    // The probe is slow, so the other requests arrive while it is still in flight.
    emu.addFault({ provider: 'deepinfra', mode: 'slowFirstByte', delayMs: 300, times: 1 });
    const results = await Promise.all([ask(gw), ask(gw), ask(gw), ask(gw, MODEL, true)]);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.provider === 'DeepInfra')).toHaveLength(1);
    expect(results.filter((r) => r.provider === 'Together')).toHaveLength(3);
    expect(emu.requests('deepinfra')).toHaveLength(before + 1);
    // The successful probe closed it.
    expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
  });

  it('a failed probe reopens the breaker for a longer interval', async () => {
    const openedAt = await openDeepInfra();
    await sleep(COOLDOWN_MS + 50 - (Date.now() - openedAt));
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 503, times: 1 });
    const before = emu.requests('deepinfra').length;
    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' }); // the probe fails
    const reopenedAt = Date.now();
    expect(emu.requests('deepinfra')).toHaveLength(before + 1);

    // Past the first interval but inside the doubled one: still skipped.
    await sleep(COOLDOWN_MS + 100);
    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    expect(emu.requests('deepinfra')).toHaveLength(before + 1);

    await sleep(2 * COOLDOWN_MS + 50 - (Date.now() - reopenedAt));
    expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
    expect(emu.requests('deepinfra')).toHaveLength(before + 2);
  });

  it('a success in between resets the count of consecutive failures', async () => {
    for (let i = 0; i < 3; i++) {
      emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: THRESHOLD - 1 });
      for (let j = 0; j < THRESHOLD - 1; j++) expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
      expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
    }
    expect(emu.requests('deepinfra')).toHaveLength(3 * THRESHOLD);
  });

  it('a 400 (the request, not the provider) does not open the breaker', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 400, message: 'bad request', times: THRESHOLD + 1 });
    for (let i = 0; i < THRESHOLD + 1; i++) expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    expect(await ask(gw)).toEqual({ status: 200, provider: 'DeepInfra' });
    expect(emu.requests('deepinfra')).toHaveLength(THRESHOLD + 2);
  });

  it('a 429 with Retry-After: 1 cools that provider for about a second', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 429, retryAfter: 1, times: 1 });
    const t0 = Date.now();
    expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
    expect(emu.requests('deepinfra')).toHaveLength(1);

    // Poll: Together serves, DeepInfra gets nothing, until about a second has passed.
    let servedAt = 0;
    while (Date.now() - t0 < 2500) {
      const r = await ask(gw);
      expect(r.status).toBe(200);
      if (r.provider === 'DeepInfra') {
        servedAt = Date.now();
        break;
      }
      expect(r.provider).toBe('Together');
      expect(emu.requests('deepinfra')).toHaveLength(1);
      await sleep(50);
    }
    expect(servedAt).toBeGreaterThan(0);
    expect(servedAt - t0).toBeGreaterThanOrEqual(950);
    expect(servedAt - t0).toBeLessThan(3000); // soon after Retry-After, with room for a loaded machine
    expect(emu.requests('deepinfra')).toHaveLength(2);
  });
});

describe('a flapping primary', () => {
  // Scaled down from "503 for 60 s, then healthy, under a request every 4 s" (cap 60 s).
  const MAX_COOLDOWN_MS = 800;
  const EVERY_MS = 100;
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startGateway(emu, {
      ROUTING_STRATEGY: 'priority',
      DEEPINFRA_PRIORITY: '1',
      TOGETHER_PRIORITY: '2',
      HUGGINGFACE_ENABLED: 'false',
      POLLINATIONS_ENABLED: 'false',
      BREAKER_FAILURE_THRESHOLD: '1',
      BREAKER_COOLDOWN_MS: '100',
      BREAKER_MAX_COOLDOWN_MS: String(MAX_COOLDOWN_MS),
      // The half-open probes themselves fail over; no same-route retries to muddle the count.
      RETRY_BUDGET: '0',
    });
  });
  afterAll(async () => {
    await gw?.close();
    emu.reset();
  });

  it('is used again within one maximum cooldown of recovering, however many probes failed while it was down', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 503 });
    const downUntil = Date.now() + 8 * MAX_COOLDOWN_MS;
    // Down: every answer still arrives, from the fallback; the failed probes grow the cooldown to its cap.
    while (Date.now() < downUntil) {
      expect(await ask(gw)).toEqual({ status: 200, provider: 'Together' });
      await sleep(EVERY_MS);
    }
    const probes = emu.requests('deepinfra').length;
    expect(probes).toBeGreaterThanOrEqual(4);
    expect(probes).toBeLessThan((8 * MAX_COOLDOWN_MS) / EVERY_MS / 2);
    emu.clearFaults();
    const recovered = Date.now();
    let served: Served;
    do {
      served = await ask(gw);
      expect(served.status).toBe(200);
      if (served.provider !== 'DeepInfra') await sleep(EVERY_MS);
    } while (served.provider !== 'DeepInfra' && Date.now() - recovered < 5 * MAX_COOLDOWN_MS);
    expect(served.provider).toBe('DeepInfra');
    expect(Date.now() - recovered).toBeLessThanOrEqual(MAX_COOLDOWN_MS + 2 * EVERY_MS + 300);
  }, 30_000);
});

describe('key pools', () => {
  let gw: Gateway;

  beforeAll(async () => {
    // Two test models whose fallbacks do not share a provider, so one pool's bad key never
    // touches the other pool: DeepInfra → HuggingFace and Together → PollinationsAI.
    const catalogFile = join(mkdtempSync(join(tmpdir(), 'g4f-keys-')), 'catalog.json');
    writeFileSync(
      catalogFile,
      JSON.stringify({
        models: [
          {
            id: 'keys-deepinfra',
            category: 'chat',
            routes: [
              { provider: 'DeepInfra', upstream_model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo' },
              { provider: 'HuggingFace', upstream_model: 'meta-llama/Llama-3.3-70B-Instruct' },
            ],
          },
          {
            id: 'keys-together',
            category: 'chat',
            routes: [
              { provider: 'Together', upstream_model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo' },
              { provider: 'PollinationsAI', upstream_model: 'llama' },
            ],
          },
        ],
      }),
    );
    gw = await startGateway(emu, {
      CATALOG_FILE: catalogFile,
      // No priorities: the catalog's route order decides.
      ROUTING_STRATEGY: 'priority',
      DEEPINFRA_API_KEY: 'bad-key-1,di-good-key-2',
      TOGETHER_API_KEY: 'broke-key-1,tg-good-key-2',
      KEY_AUTH_COOLDOWN_MS: '1500',
      BREAKER_FAILURE_THRESHOLD: '2',
      BREAKER_COOLDOWN_MS: '300',
    });
  });
  afterAll(async () => {
    await gw?.close();
  });
  afterEach(() => emu.reset());

  it.each([
    { provider: 'deepinfra', name: 'DeepInfra', model: 'keys-deepinfra', bad: 'bad-key-1', good: 'di-good-key-2', status: 401 },
    { provider: 'together', name: 'Together', model: 'keys-together', bad: 'broke-key-1', good: 'tg-good-key-2', status: 402 },
  ] as const)('$name: a $status key is used at most once per cooldown, the good key serves the rest', async ({ provider, name, model, bad, good }) => {
    const results: Served[] = [];
    for (let i = 0; i < 6; i++) results.push(await ask(gw, model, i % 2 === 1));
    results.push(...(await Promise.all([ask(gw, model), ask(gw, model, true), ask(gw, model), ask(gw, model)])));

    // Every request succeeded, all from this provider: the one that met the bad key was
    // retried with the provider's other key instead of leaving the provider.
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.every((r) => r.provider === name)).toBe(true);

    const keys = emu.requests(provider).map(authOf);
    // Tried once, then left alone for the rest of the cooldown window.
    expect(keys.filter((k) => k === `Bearer ${bad}`)).toHaveLength(1);
    expect(keys.filter((k) => k === `Bearer ${good}`)).toHaveLength(results.length);
    expect(keys.every((k) => k === `Bearer ${bad}` || k === `Bearer ${good}`)).toBe(true);
  });

  it('a forced provider with one bad key still answers every request, from its good key', async () => {
    await sleep(1600); // let the previous test's cooldown of bad-key-1 run out
    const first = await postJson(`${gw.baseURL}/chat/completions`, {
      model: 'keys-deepinfra',
      provider: 'deepinfra',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-pool-provider')).toBe('DeepInfra');
    for (let i = 0; i < 3; i++) expect((await ask(gw, 'keys-deepinfra')).provider).toBe('DeepInfra');
    expect(emu.requests('deepinfra').map(authOf)).toEqual([
      'Bearer bad-key-1',
      'Bearer di-good-key-2',
      'Bearer di-good-key-2',
      'Bearer di-good-key-2',
      'Bearer di-good-key-2',
    ]);
  });

  it('reports the bad key: cooling down with its reason in the provider view, masked in the request log', async () => {
    await sleep(1600); // the Together test's cooldown of broke-key-1 runs out: it gets one more try here
    expect((await ask(gw, 'keys-together')).provider).toBe('Together');
    const h = await adminHeaders(gw);
    const provider = (await (await fetch(`${gw.url}/api/providers/together`, { headers: h })).json()) as {
      keys: Array<{ masked: string; invalid: boolean; breaker: { state: string; lastFailure: string | null } }>;
    };
    expect(provider.keys).toEqual([
      expect.objectContaining({
        masked: '****',
        invalid: false,
        breaker: expect.objectContaining({ state: 'open', lastFailure: expect.stringMatching(/402/) }),
      }),
      expect.objectContaining({ masked: '****', breaker: expect.objectContaining({ state: 'closed' }) }),
    ]);
    expect(JSON.stringify(provider)).not.toContain('broke-key-1');

    let entry: { attempts: Array<{ key?: string; status: number | null }> } | undefined;
    for (let i = 0; i < 50 && !entry; i++) {
      const page = (await (await fetch(`${gw.url}/api/logs?model=keys-together&pageSize=1`, { headers: h })).json()) as { items: (typeof entry)[] };
      entry = page.items[0];
      if (!entry) await sleep(100);
    }
    expect(entry!.attempts.map((a) => [a.key, a.status])).toEqual([
      ['****', 402],
      ['****', 200],
    ]);
  });

  it('after the key cooldown the bad key is retried once, then cooled again', async () => {
    // The previous test cooled bad-key-1 less than KEY_AUTH_COOLDOWN_MS ago; wait it out.
    await sleep(1600);
    const results: Served[] = [];
    for (let i = 0; i < 5; i++) results.push(await ask(gw, 'keys-deepinfra'));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const keys = emu.requests('deepinfra').map(authOf);
    expect(keys.filter((k) => k === 'Bearer bad-key-1')).toHaveLength(1);
    expect(keys.filter((k) => k === 'Bearer di-good-key-2').length).toBeGreaterThanOrEqual(4);
  });
});
