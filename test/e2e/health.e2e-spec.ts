/**
 * Health endpoints (public, Terminus-shaped) and the provider health checks (scheduled and
 * on demand, admin), observed from outside against the provider emulator.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProviderHealthService } from '../../apps/api/src/health/provider-health.service.ts';
import type { ProviderCheck } from '../../apps/api/src/health/provider-probe.ts';
import type { ProviderHealthView } from '../../apps/api/src/health/health-admin.controller.ts';
import type { ProviderDetail } from '#contracts';
import type { HealthCheckResult as StoredCheck, Storage } from '../../apps/api/src/storage/storage.ts';
import { STORAGE } from '../../apps/api/src/storage/storage.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';

interface Indicator {
  status: 'up' | 'down' | 'degraded';
  [field: string]: unknown;
}

interface HealthBody {
  status: 'ok' | 'error' | 'degraded' | 'shutting_down';
  info?: Record<string, Indicator>;
  error?: Record<string, Indicator>;
  details: Record<string, Indicator>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something other than undefined; fails with `what` after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

async function providerViews(gw: Gateway, auth: Record<string, string>): Promise<Map<string, ProviderHealthView>> {
  const { status, body } = await getJson<{ providers: ProviderHealthView[] }>(`${gw.url}/api/health/providers`, auth);
  expect(status).toBe(200);
  return new Map(body.providers.map((p) => [p.name, p]));
}

async function checkAll(gw: Gateway, auth: Record<string, string>): Promise<Map<string, ProviderCheck>> {
  const res = await fetch(`${gw.url}/api/health/check`, { method: 'POST', headers: auth });
  expect(res.status).toBe(200);
  const { results } = (await res.json()) as { results: ProviderCheck[] };
  return new Map(results.map((r) => [r.provider, r]));
}

async function history(gw: Gateway, auth: Record<string, string>, provider: string): Promise<StoredCheck[]> {
  const { status, body } = await getJson<{ provider: string; items: StoredCheck[] }>(`${gw.url}/api/health/history/${provider}`, auth);
  expect(status).toBe(200);
  return body.items;
}

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterAll(async () => {
  await emu?.close();
});
afterEach(() => emu.reset());

describe('public health endpoints', () => {
  let gw: Gateway;
  beforeAll(async () => {
    // A client key is required for /v1, to show that the health endpoints do not need it.
    gw = await startGateway(emu, { API_KEY: 'sk-client-only' });
  });
  afterAll(() => gw?.close());

  it('/health: 200, storage up, a summary of the providers, not cached; no token needed', async () => {
    const { status, body, headers } = await getJson<HealthBody>(`${gw.url}/health`);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.details.storage).toMatchObject({ status: 'up', kind: 'sqlite' });
    const providers = body.details.providers!;
    expect(providers.status).toBe('up');
    expect(providers.total).toBeGreaterThanOrEqual(5);
    expect(providers.configured).toBe(5);
    expect(providers.available).toBe(5);
    expect(providers.unhealthy).toBe(0);
    expect(providers.lastCheckAt).toBeNull();
    expect(providers.problems).toEqual([]);
    expect(headers.get('cache-control')).toContain('no-store');
    // The same gateway does want a key on /v1.
    expect((await fetch(`${gw.baseURL}/models`)).status).toBe(401);
  });

  it('/health/live: 200 with the process, nothing else', async () => {
    const { status, body } = await getJson<HealthBody>(`${gw.url}/health/live`);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(Object.keys(body.details)).toEqual(['process']);
    expect(body.details.process).toMatchObject({ status: 'up', pid: process.pid });
    expect(typeof body.details.process!.uptimeSeconds).toBe('number');
  });

  it('/health/ready: 200 with the app up', async () => {
    const { status, body } = await getJson<HealthBody>(`${gw.url}/health/ready`);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.details.app!.status).toBe('up');
    expect(body.details.providers).toBeUndefined();
  });

  it('the /api/health endpoints need an admin session', async () => {
    expect((await fetch(`${gw.url}/api/health/check`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${gw.url}/api/health/providers`)).status).toBe(401);
    expect((await fetch(`${gw.url}/api/health/history/Together`)).status).toBe(401);
  });
});

describe('health when something is wrong', () => {
  it('no provider enabled and configured: /health is down (503), readiness stays 200 (a restart brings no key)', async () => {
    const off = {
      POLLINATIONS_ENABLED: 'false',
      DEEPINFRA_ENABLED: 'false',
      TOGETHER_ENABLED: 'false',
      HUGGINGFACE_ENABLED: 'false',
      CLOUDFLARE_ENABLED: 'false',
    };
    const gw = await startGateway(emu, off);
    try {
      const { status, body } = await getJson<HealthBody>(`${gw.url}/health`);
      expect(status).toBe(503);
      expect(body.status).toBe('error');
      expect(body.error!.providers).toMatchObject({ status: 'down', available: 0, configured: 0 });
      expect(String(body.error!.providers!.message)).toMatch(/no provider can serve/);
      // Disabled by the operator is a choice, not a problem to list.
      expect(body.error!.providers!.problems).toEqual([]);
      expect(body.details.storage).toMatchObject({ status: 'up' });
      const ready = await getJson<HealthBody>(`${gw.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ok');
    } finally {
      await gw.close();
    }
  });

  it('providers without their keys: /health is degraded (200) and names the variable to set', async () => {
    const gw = await startGateway(emu, { DEEPINFRA_API_KEY: '', TOGETHER_API_KEY: '' });
    try {
      const { status, body } = await getJson<HealthBody>(`${gw.url}/health`);
      expect(status).toBe(200);
      expect(body.status).toBe('degraded');
      const providers = body.details.providers!;
      expect(providers).toMatchObject({ status: 'degraded', configured: 3, available: 3 });
      expect(providers.problems).toEqual([
        { provider: 'DeepInfra', reason: 'needs an API key (DEEPINFRA_API_KEY)' },
        { provider: 'Together', reason: 'needs an API key (TOGETHER_API_KEY)' },
      ]);
      // Chat, image, audio, embedding and transcription still each have a model that can be served.
      const capabilities = providers.capabilities as Record<string, { models: number; available: number }>;
      expect(Object.keys(capabilities).sort()).toEqual(['audio', 'chat', 'embedding', 'image', 'transcription']);
      for (const c of Object.values(capabilities)) expect(c.available).toBeGreaterThan(0);
      expect((await fetch(`${gw.url}/health/ready`)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('a capability with no model that can be served: /health is degraded and says which', async () => {
    // Every provider configured, but the only one with speech models is switched off.
    const gw = await startGateway(emu, { POLLINATIONS_ENABLED: 'false' });
    try {
      const { status, body } = await getJson<HealthBody>(`${gw.url}/health`);
      expect(status).toBe(200);
      expect(body.status).toBe('degraded');
      const providers = body.details.providers!;
      expect(providers.problems).toEqual([]);
      expect((providers.capabilities as Record<string, { available: number }>).audio!.available).toBe(0);
      expect(providers.message).toBe('no model can be served for: audio');
    } finally {
      await gw.close();
    }
  });

  it('storage unreachable: /health answers 503 in Terminus’ shape; /health/ready and /health/live stay 200, and /v1 keeps answering', async () => {
    const gw = await startGateway(emu);
    try {
      await gw.app.get<Storage>(STORAGE).close();
      const { status, body } = await getJson<HealthBody>(`${gw.url}/health`);
      expect(status).toBe(503);
      expect(body.status).toBe('error');
      expect(body.error!.storage).toMatchObject({ status: 'down' });
      expect(String(body.error!.storage!.message)).toMatch(/closed/);
      // Readiness is about serving, which does not need the store: a storage outage must not
      // take every replica out of the load balancer.
      expect((await fetch(`${gw.url}/health/ready`)).status).toBe(200);
      expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);
      const chat = await fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama-3.3-70b', provider: 'Together', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(chat.status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('scheduled provider checks', () => {
  let gw: Gateway;
  let auth: Record<string, string>;
  beforeAll(async () => {
    gw = await startGateway(emu, { HEALTH_CHECK_INTERVAL: '1s' });
    auth = await adminHeaders(gw);
  });
  afterAll(() => gw?.close());

  it('run on their own, mark a faulted provider unhealthy (without stopping its routing) and a recovered one healthy again', async () => {
    // The first run comes about one interval after start.
    const first = await until('every configured provider has been checked', async () => {
      const views = await providerViews(gw, auth);
      return [...views.values()].every((v) => v.lastCheck !== null) ? views : undefined;
    });
    // A one-token chat on the provider's cheapest chat model, not a model-list read.
    expect(first.get('Together')!.lastCheck).toMatchObject({ ok: true, probe: 'chat', model: expect.any(String), error: null });
    const probes = emu.requests('together').filter((r) => r.method === 'POST' && r.path.endsWith('/chat/completions'));
    expect(probes.length).toBeGreaterThan(0);
    const probe = probes[0]!.body as { model: string; max_tokens: number; stream: boolean };
    expect(probe).toMatchObject({ max_tokens: 1, stream: false });
    expect(emu.requests('together').some((r) => r.method === 'GET' && r.path.endsWith('/models'))).toBe(false);

    // Only the probe's model fails: the chat below, to another model, is served.
    emu.addFault({ provider: 'together', mode: 'status', status: 500, path: 'chat', model: probe.model });
    const faulted = await until('Together is unhealthy', async () => {
      const together = (await providerViews(gw, auth)).get('Together')!;
      return together.healthy === false ? together : undefined;
    });
    expect(faulted.lastCheck!.error).toMatch(/500/);
    expect(faulted.condition).toMatchObject({ state: 'failing', source: 'check' });
    const { body } = await getJson<HealthBody>(`${gw.url}/health`);
    expect(body.details.providers!.unhealthy).toBeGreaterThanOrEqual(1);
    expect(body.status).toBe('degraded');
    expect(body.details.providers!.problems).toContainEqual({ provider: 'Together', reason: expect.stringMatching(/^last health check failed: .*500/) });
    // A failed probe of a provider with a closed breaker reports; it does not stop routing.
    expect(faulted.status).toBe('available');
    const chat = await postJson(`${gw.baseURL}/chat/completions`, {
      model: 'llama-3.3-70b',
      provider: 'Together',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.status).toBe(200);
    expect(chat.headers.get('x-pool-provider')).toBe('Together');

    emu.clearFaults();
    await until('Together is healthy again', async () => ((await providerViews(gw, auth)).get('Together')!.healthy === true ? true : undefined));

    const items = await history(gw, auth, 'together');
    expect(items[0]).toMatchObject({ provider: 'Together', ok: true, probe: 'chat', error: null });
    expect(items.some((i) => !i.ok && /500/.test(i.error ?? ''))).toBe(true);
    for (let i = 1; i < items.length; i++) expect(items[i - 1]!.checkedAt).toBeGreaterThanOrEqual(items[i]!.checkedAt);
  }, 30_000);
});

describe('live traffic and probes together', () => {
  let gw: Gateway;
  let auth: Record<string, string>;
  beforeAll(async () => {
    // DeepInfra is probed by its model list only; Together by a one-token chat.
    gw = await startGateway(emu, { BREAKER_FAILURE_THRESHOLD: '1000', HEALTH_PROBE_PROVIDERS: 'deepinfra=models' });
    auth = await adminHeaders(gw);
  });
  afterAll(() => gw?.close());

  const chatTo = async (provider: string) => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: 'llama-3.3-70b', provider, messages: [{ role: 'user', content: 'hi' }] });
    await res.arrayBuffer();
    return res.status;
  };
  const detail = async (name: string) => (await getJson<ProviderDetail>(`${gw.url}/api/providers/${name}`, auth)).body;

  it('a provider failing live chat while its model list works is 异常 within three requests, and a model-list probe does not make it healthy', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, path: 'chat', message: 'model crashed' });
    let requests = 0;
    while ((await detail('DeepInfra')).condition.state !== 'failing') {
      expect(await chatTo('DeepInfra')).toBe(502);
      expect(++requests).toBeLessThanOrEqual(3);
    }
    const failing = await detail('DeepInfra');
    expect(failing.condition).toMatchObject({ state: 'failing', source: 'live', status: 500, reason: expect.stringMatching(/500/) });
    expect(failing.condition.live.consecutiveFailures).toBeGreaterThanOrEqual(3);

    const res = await fetch(`${gw.url}/api/providers/DeepInfra/health`, { method: 'POST', headers: auth });
    const checked = (await res.json()) as ProviderDetail;
    expect(checked.lastCheck).toMatchObject({ ok: true, probe: 'models' });
    expect(checked.condition).toMatchObject({ state: 'failing', source: 'live', status: 500 });
    const health = await getJson<HealthBody>(`${gw.url}/health`);
    expect(health.body.details.providers!.problems).toContainEqual({ provider: 'DeepInfra', reason: expect.stringMatching(/^recent requests failed: .*500/) });

    // Served again: one success ends the run of failures; the recent share keeps it 降级 for now.
    emu.clearFaults();
    expect(await chatTo('DeepInfra')).toBe(200);
    expect((await detail('DeepInfra')).condition).toMatchObject({ state: 'degraded', source: 'live', status: 500 });
  });

  it('a successful one-token chat probe after the failures makes it healthy again', async () => {
    emu.addFault({ provider: 'together', mode: 'status', status: 503, path: 'chat', times: 4 });
    for (let i = 0; i < 2; i++) expect(await chatTo('Together')).toBe(502);
    expect((await detail('Together')).condition).toMatchObject({ state: 'failing', source: 'live', status: 503 });
    const res = await fetch(`${gw.url}/api/providers/Together/health`, { method: 'POST', headers: auth });
    const checked = (await res.json()) as ProviderDetail;
    expect(checked.lastCheck).toMatchObject({ ok: true, probe: 'chat', model: expect.any(String) });
    expect(checked.condition.state).toBe('healthy');
  });
});

describe('a probe and a breaker that live failures opened', () => {
  let gw: Gateway;
  let auth: Record<string, string>;
  beforeAll(async () => {
    gw = await startGateway(emu, { BREAKER_FAILURE_THRESHOLD: '1', BREAKER_COOLDOWN_MS: '600000', HEALTH_PROBE_PROVIDERS: 'deepinfra=models' });
    auth = await adminHeaders(gw);
  });
  afterAll(() => gw?.close());

  it('a model-list read never closes it; the provider stays cooling down and 异常', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, path: 'chat', times: 1 });
    const failed = await postJson(`${gw.baseURL}/chat/completions`, {
      model: 'llama-3.3-70b',
      provider: 'DeepInfra',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await failed.arrayBuffer();
    expect(failed.status).toBe(502);
    const checks = await checkAll(gw, auth);
    expect(checks.get('DeepInfra')).toMatchObject({ ok: true, probe: 'models' });
    const deepinfra = (await providerViews(gw, auth)).get('DeepInfra')!;
    expect(deepinfra.status).toBe('cooling-down');
    expect(deepinfra.condition).toMatchObject({ state: 'failing', source: 'breaker' });
  });
});

describe('on-demand provider checks', () => {
  let gw: Gateway;
  let auth: Record<string, string>;
  beforeAll(async () => {
    gw = await startGateway(emu, {
      DEEPINFRA_API_KEY: 'bad-key-00000001,di-good-key-0001',
      BREAKER_FAILURE_THRESHOLD: '1',
      BREAKER_COOLDOWN_MS: '600000',
    });
    auth = await adminHeaders(gw);
  });
  afterAll(() => gw?.close());

  it('POST /api/health/check probes every configured provider; a key that fails auth is reported and cooled like chat does', async () => {
    const results = await checkAll(gw, auth);
    expect([...results.keys()].sort()).toEqual(['CloudflareAI', 'DeepInfra', 'HuggingFace', 'PollinationsAI', 'Together']);
    for (const r of results.values()) expect(r).toMatchObject({ ok: true, error: null, probe: 'chat' });
    const deepinfra = results.get('DeepInfra')!;
    expect(deepinfra.key).toBe('****0001');
    expect(deepinfra.keyProblems).toEqual([{ key: '****0001', status: 401, error: expect.stringMatching(/401/) as unknown as string }]);

    // The bad key is now cooling: chat to DeepInfra only uses the good one.
    emu.reset();
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${gw.baseURL}/chat/completions`, {
        model: 'llama-3.3-70b',
        provider: 'DeepInfra',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.status).toBe(200);
    }
    const keys = emu.requests('deepinfra').map((r) => r.headers.authorization);
    expect(keys).toEqual(['Bearer di-good-key-0001', 'Bearer di-good-key-0001', 'Bearer di-good-key-0001']);
  });

  it('check(name) answers with the result; a failed probe leaves a closed breaker closed', async () => {
    const checks = gw.app.get(ProviderHealthService);
    emu.addFault({ provider: 'together', mode: 'status', status: 503, path: 'chat' });
    const failed = await checks.check('together');
    expect(failed).toMatchObject({ provider: 'Together', ok: false, probe: 'chat' });
    expect(failed.error).toMatch(/503/);
    expect(checks.lastCheck('Together')).toEqual(failed);
    // With BREAKER_FAILURE_THRESHOLD=1 one chat failure would open it; a probe does not.
    expect((await providerViews(gw, auth)).get('Together')!.status).toBe('available');

    emu.clearFaults();
    expect(await checks.check('Together')).toMatchObject({ ok: true, error: null });
    await expect(checks.check('NoSuchProvider')).rejects.toMatchObject({ status: 404, code: 'unknown_provider' });
  });

  it('a successful check closes an open breaker early', async () => {
    emu.addFault({ provider: 'together', mode: 'status', status: 500, times: 1 });
    const failed = await postJson(`${gw.baseURL}/chat/completions`, {
      model: 'llama-3.3-70b',
      provider: 'Together',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await failed.arrayBuffer();
    expect(failed.status).toBe(502);
    expect((await providerViews(gw, auth)).get('Together')!.status).toBe('cooling-down');

    const res = await fetch(`${gw.url}/api/health/check`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    expect((await providerViews(gw, auth)).get('Together')!.status).toBe('available');
  });

  it('GET /api/health/history/:provider: unknown provider 404, bad limit 400, limit honoured', async () => {
    expect((await fetch(`${gw.url}/api/health/history/NoSuchProvider`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${gw.url}/api/health/history/Together?limit=0`, { headers: auth })).status).toBe(400);
    const { status, body } = await getJson<{ provider: string; items: StoredCheck[] }>(`${gw.url}/api/health/history/together?limit=1`, auth);
    expect(status).toBe(200);
    expect(body.provider).toBe('Together');
    expect(body.items).toHaveLength(1);
  });
});

it('health history survives a restart with the same DATA_DIR, with what each check tested, and the last check is known again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'g4f-health-'));
  // Together is probed by its model list, the others by a one-token chat.
  const env = { DATA_DIR: dataDir, HEALTH_PROBE_PROVIDERS: 'together=models' };
  const first = await startGateway(emu, env);
  let stored: StoredCheck[];
  let listRead: StoredCheck[];
  try {
    const auth = await adminHeaders(first);
    emu.addFault({ provider: 'huggingface', mode: 'status', status: 500, path: 'chat' });
    const results = await checkAll(first, auth);
    stored = await history(first, auth, 'HuggingFace');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ ok: false, probe: 'chat', model: results.get('HuggingFace')!.model });
    expect(stored[0]!.model).toEqual(expect.any(String));
    listRead = await history(first, auth, 'Together');
    expect(listRead).toEqual([expect.objectContaining({ ok: true, probe: 'models', model: null })]);
  } finally {
    await first.close();
  }

  const second = await startGateway(emu, env);
  try {
    const auth = await adminHeaders(second);
    expect(await history(second, auth, 'HuggingFace')).toEqual(stored);
    expect(await history(second, auth, 'Together')).toEqual(listRead);
    const view = await until('the stored last check is loaded', async () => {
      const hf = (await providerViews(second, auth)).get('HuggingFace')!;
      return hf.lastCheck ? hf : undefined;
    });
    expect(view.healthy).toBe(false);
    expect(view.lastCheck).toMatchObject({ ok: false, checkedAt: stored[0]!.checkedAt, error: stored[0]!.error, probe: 'chat', model: stored[0]!.model });
    const detail = await getJson<ProviderDetail>(`${second.url}/api/providers/huggingface`, auth);
    expect(detail.body.lastCheck).toMatchObject({ probe: 'chat', model: stored[0]!.model });
  } finally {
    await second.close();
  }
}, 20_000);

it('readiness answers 503 from the first step of shutdown; liveness stays 200; new connections are refused', async () => {
  // A slow stream keeps the shutdown in its drain step for a while.
  emu.setPacing({ chunks: 10, chunkDelayMs: 200 });
  const gw = await startGateway(emu, { SHUTDOWN_GRACE_SECONDS: '20' });
  // The gateway stops accepting connections at once; a second listener on the same application
  // plays a connection that was open before (a load balancer's, a kubelet's probe).
  const side = createServer(gw.app.getHttpAdapter().getInstance());
  await new Promise<void>((resolve) => side.listen(0, '127.0.0.1', resolve));
  const sideUrl = `http://127.0.0.1:${(side.address() as AddressInfo).port}`;
  try {
    expect((await fetch(`${gw.url}/health/ready`)).status).toBe(200);
    const stream = await postJson(`${gw.baseURL}/chat/completions`, {
      model: 'llama-3.3-70b',
      provider: 'DeepInfra',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(stream.status).toBe(200);
    const closing = gw.close();
    const body = await until('readiness answers 503', async () => {
      const res = await fetch(`${sideUrl}/health/ready`);
      return res.status === 503 ? ((await res.json()) as HealthBody) : undefined;
    });
    expect(body.status).toBe('shutting_down');
    expect(body.details.app).toMatchObject({ status: 'down', message: 'shutting down' });
    expect((await fetch(`${sideUrl}/health/live`)).status).toBe(200);
    await expect(fetch(`${gw.url}/health/ready`)).rejects.toThrow();
    // The stream in flight still runs to its end.
    expect(await stream.text()).toContain('data: [DONE]');
    await closing;
  } finally {
    side.close();
  }
}, 20_000);
