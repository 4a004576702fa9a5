/**
 * Loose ends of the hardening, against the running application and the provider emulators:
 *
 * - startup errors that quote a proxy or base URL mask its credentials; a MEDIA_FETCH_ALLOW_HOSTS
 *   entry with a port (which could never match) stops the start with a clear line;
 * - image links built from `X-Forwarded-Host`/`X-Forwarded-Proto` only when the request came
 *   through a proxy TRUST_PROXY trusts (any client can send those headers);
 * - health checks and model-list fetches end at one deadline (15 s, or UPSTREAM_TIMEOUT_MS when
 *   shorter) for the whole call, against an upstream that trickles its answer (never silent long
 *   enough for the idle timeout) or answers every key slowly.
 *
 * Every socket is on 127.0.0.1; the deadlines are made short with UPSTREAM_TIMEOUT_MS so that each
 * case takes about a second.
 */
import { fileURLToPath } from 'node:url';
import type { DiscoveryRefreshResult, ProviderCheckAll } from '#contracts';
import { startEmulator, type Emulator } from '../../emulators/emulator.ts';
import { adminHeaders } from '../../support/admin.ts';
import { postJson, startGateway, type Gateway } from '../../support/gateway.ts';
import { runGatewayToExit } from '../../support/gateway-process.ts';

const CATALOG_FILE = fileURLToPath(new URL('../fixtures/media-catalog.yaml', import.meta.url));
const IMAGE = { model: 'flux-schnell', prompt: 'a lighthouse at dusk', provider: 'pollinations', size: '256x256' };
const FORGED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };
const FILE_PATH = /\/v1\/images\/files\/[A-Za-z0-9_-]{32}\.jpg$/;

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});

afterEach(() => emu.reset());

afterAll(async () => {
  await emu?.close();
});

async function withGateway(env: Record<string, string>, run: (gw: Gateway) => Promise<void>): Promise<void> {
  const gw = await startGateway(emu, env);
  try {
    await run(gw);
  } finally {
    await gw.close();
  }
}

/* ------------------------------------------------------------------ startup errors */

describe('startup errors', () => {
  it('a proxy URL with a password that is not http(s) stops the start; the error names the variable and masks the password', async () => {
    const { code, output } = await runGatewayToExit({ TOGETHER_PROXY: 'socks5://proxyuser:Hunter2-Proxy-Pass@proxy.local:1080' });
    expect(code).not.toBe(0);
    expect(output).toContain('TOGETHER_PROXY must be an http(s) URL, got "socks5://proxyuser:****@proxy.local:1080"');
    expect(output).not.toContain('Hunter2-Proxy-Pass');
    expect(output).not.toMatch(/^\s+at /m);
  });

  it('a MEDIA_FETCH_ALLOW_HOSTS entry with a port stops the start with one clear line', async () => {
    const { code, output } = await runGatewayToExit({ MEDIA_FETCH_ALLOW_HOSTS: '10.0.0.0/8, 127.0.0.1:9000' });
    expect(code).not.toBe(0);
    expect(output).toContain('"127.0.0.1:9000" has a port: entries allow a host on every port, write "127.0.0.1" instead');
    expect(output).not.toMatch(/^\s+at /m);
  });
});

/* ------------------------------------------------------------------ forwarded headers */

describe('image URLs and forwarded headers', () => {
  async function imageUrl(gw: Gateway, headers: Record<string, string>): Promise<string> {
    const res = await postJson(`${gw.baseURL}/images/generations`, IMAGE, headers);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { url: string }[] };
    return body.data[0]!.url;
  }

  it('without TRUST_PROXY, a client forging X-Forwarded-Host/-Proto gets a link to the gateway itself', async () => {
    await withGateway({ CATALOG_FILE }, async (gw) => {
      const url = await imageUrl(gw, FORGED);
      expect(url.startsWith(`${gw.url}/v1/images/files/`)).toBe(true);
      expect(url).toMatch(FILE_PATH);
      expect((await fetch(url)).status).toBe(200);
    });
  });

  it('with TRUST_PROXY naming another address, this (loopback) client is not a trusted proxy: headers ignored', async () => {
    await withGateway({ CATALOG_FILE, TRUST_PROXY: '10.0.0.1' }, async (gw) => {
      expect((await imageUrl(gw, FORGED)).startsWith(`${gw.url}/v1/images/files/`)).toBe(true);
    });
  });

  it('through a trusted proxy (TRUST_PROXY=loopback) the forwarded origin is used; a value that is not a plain host is not', async () => {
    await withGateway({ CATALOG_FILE, TRUST_PROXY: 'loopback' }, async (gw) => {
      expect(await imageUrl(gw, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'images.example.com' })).toMatch(
        new RegExp(`^https://images\\.example\\.com${FILE_PATH.source}`),
      );
      const odd = await imageUrl(gw, { 'x-forwarded-proto': 'javascript', 'x-forwarded-host': 'evil.example/x?y=' });
      expect(odd.startsWith(`${gw.url}/v1/images/files/`)).toBe(true);
    });
  });

  it('PUBLIC_BASE_URL comes first, even through a trusted proxy', async () => {
    await withGateway({ CATALOG_FILE, TRUST_PROXY: 'loopback', PUBLIC_BASE_URL: 'https://cdn.example.com/pool/' }, async (gw) => {
      expect(await imageUrl(gw, { 'x-forwarded-host': 'images.example.com' })).toMatch(new RegExp(`^https://cdn\\.example\\.com/pool${FILE_PATH.source}`));
    });
  });
});

/* ------------------------------------------------------------------ check deadlines */

describe('health checks and model-list fetches end at their deadline', () => {
  /** The call's deadline: UPSTREAM_TIMEOUT_MS, shorter than the 15 s default bound. */
  const DEADLINE_MS = 1200;
  /** Longer than the emulator's trickle interval: the idle timeout alone would never fire. */
  const IDLE_MS = 800;
  const SLACK_MS = 700;
  const ENV = {
    UPSTREAM_TIMEOUT_MS: String(DEADLINE_MS),
    UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_MS),
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '5000',
    BREAKER_FAILURE_THRESHOLD: '1000',
    // These checks are about the models endpoint.
    HEALTH_PROBE: 'models',
  };

  async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const t0 = performance.now();
    const value = await run();
    return { value, ms: performance.now() - t0 };
  }

  async function refreshDeepInfra(gw: Gateway, auth: Record<string, string>): Promise<DiscoveryRefreshResult> {
    const res = await fetch(`${gw.url}/api/discovery/refresh?provider=DeepInfra`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    return ((await res.json()) as DiscoveryRefreshResult[])[0]!;
  }

  it('a health check of a models endpoint that trickles a comment every 100 ms ends at the deadline, as a timeout', async () => {
    await withGateway(ENV, async (gw) => {
      const auth = await adminHeaders(gw);
      emu.addFault({ provider: 'deepinfra', mode: 'commentOnly', path: 'models', delayMs: 100 });
      const { value: res, ms } = await timed(() => fetch(`${gw.url}/api/health/check`, { method: 'POST', headers: auth }));
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as ProviderCheckAll;
      const check = results.find((r) => r.provider === 'DeepInfra')!;
      expect(check).toMatchObject({ ok: false, probe: 'models', error: `timeout: health check timed out after ${DEADLINE_MS} ms` });
      expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      // The other providers were checked as usual meanwhile.
      expect(results.find((r) => r.provider === 'Together')).toMatchObject({ ok: true });
    });
  });

  it('a health check trying three keys, each refused after 700 ms, stops at the one deadline of the whole check', async () => {
    const keys = ['bad-key-0001', 'bad-key-0002', 'bad-key-0003'];
    await withGateway({ ...ENV, DEEPINFRA_API_KEY: keys.join(',') }, async (gw) => {
      const auth = await adminHeaders(gw);
      for (const key of keys) emu.addFault({ provider: 'deepinfra', mode: 'slowFirstByte', path: 'models', delayMs: 700, key });
      const { value: res, ms } = await timed(() => fetch(`${gw.url}/api/health/check`, { method: 'POST', headers: auth }));
      const check = ((await res.json()) as ProviderCheckAll).results.find((r) => r.provider === 'DeepInfra')!;
      expect(check).toMatchObject({ ok: false, error: `timeout: health check timed out after ${DEADLINE_MS} ms` });
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      expect(emu.requests('deepinfra').filter((r) => r.path.endsWith('/models')).length).toBe(2);
    });
  });

  it('a model-list fetch that trickles ends at the deadline; the previous state is kept', async () => {
    await withGateway(ENV, async (gw) => {
      const auth = await adminHeaders(gw);
      expect(await refreshDeepInfra(gw, auth)).toMatchObject({ ok: true, error: null });
      emu.addFault({ provider: 'deepinfra', mode: 'commentOnly', path: 'models', delayMs: 100 });
      const { value: result, ms } = await timed(() => refreshDeepInfra(gw, auth));
      expect(result).toMatchObject({ ok: false, error: `timeout: no model list within ${DEADLINE_MS} ms` });
      expect(result.modelCount).toBeGreaterThan(0);
      expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    });
  });

  it('one deadline for the whole fetch, not one per key: three keys each refused after 700 ms stop at the deadline', async () => {
    const keys = ['bad-key-0001', 'bad-key-0002', 'bad-key-0003'];
    await withGateway({ ...ENV, DEEPINFRA_API_KEY: keys.join(',') }, async (gw) => {
      const auth = await adminHeaders(gw);
      for (const key of keys) emu.addFault({ provider: 'deepinfra', mode: 'slowFirstByte', path: 'models', delayMs: 700, key });
      const { value: result, ms } = await timed(() => refreshDeepInfra(gw, auth));
      // Per key, each 401 came within the deadline; all three would have taken 2.1 s.
      expect(result).toMatchObject({ ok: false, error: `timeout: no model list within ${DEADLINE_MS} ms` });
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      expect(emu.requests('deepinfra').filter((r) => r.path.endsWith('/models')).length).toBe(2);
    });
  });
});
