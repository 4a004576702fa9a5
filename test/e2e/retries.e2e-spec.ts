/**
 * Retry discipline: a failure that may pass is retried once on the same route, politely, only
 * when no other route is ready sooner (or when the operator asks, RETRY_SAME_ROUTE); a short
 * Retry-After on the only route is waited out; a long one is not; a timeout is never retried on
 * the route that timed out; RETRY_BUDGET bounds it all. The emulator's DeepInfra (one key) is the
 * primary, Together the fallback where enabled.
 */
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';

interface Attempt {
  provider: string;
  status: number | null;
  reason: string;
}
interface ErrorBody {
  error: { code: string | null; attempts?: Attempt[] };
}

let emu: Emulator;
const gateways: Gateway[] = [];

/** DeepInfra first; Together behind it only when `fallback`. */
async function start(fallback: boolean, env: Record<string, string> = {}): Promise<Gateway> {
  const gw = await startGateway(emu, {
    ROUTING_STRATEGY: 'priority',
    DEEPINFRA_PRIORITY: '1',
    TOGETHER_PRIORITY: '2',
    TOGETHER_ENABLED: String(fallback),
    HUGGINGFACE_ENABLED: 'false',
    POLLINATIONS_ENABLED: 'false',
    CLOUDFLARE_ENABLED: 'false',
    BREAKER_FAILURE_THRESHOLD: '1000',
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '500',
    ...env,
  });
  gateways.push(gw);
  return gw;
}

let alone: Gateway;
let withFallback: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  alone = await start(false);
  withFallback = await start(true);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await emu?.close();
});
afterEach(() => emu.reset());

const chat = (gw: Gateway, stream = false) => postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, stream, messages: [{ role: 'user', content: 'hi' }] });

/** The request log's attempts of the last request, read from the record the gateway kept. */
async function lastAttempts(gw: Gateway): Promise<Attempt[]> {
  const login = (await (await postJson(`${gw.url}/api/auth/login`, { password: 'admin-test-password' })).json()) as { token: string };
  // The log is written in batches: wait for the row.
  for (let i = 0; i < 50; i++) {
    const page = (await (await fetch(`${gw.url}/api/logs?pageSize=1`, { headers: { authorization: `Bearer ${login.token}` } })).json()) as {
      items: { attempts: Attempt[] }[];
    };
    if (page.items[0]) return page.items[0].attempts;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no request in the log');
}

it.each([false, true])('a 429 with a short Retry-After on the only route is waited out and retried there (stream: %s)', async (stream) => {
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 429, retryAfter: 1, times: 1 });
  const started = Date.now();
  const res = await chat(alone, stream);
  expect(res.status).toBe(200);
  await res.text();
  expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  expect(emu.requests('deepinfra')).toHaveLength(2);
});

it('a 429 with a short Retry-After goes to the fallback at once when one is ready', async () => {
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 429, retryAfter: 1, times: 1 });
  const started = Date.now();
  const res = await chat(withFallback);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pool-provider')).toBe('Together');
  expect(Date.now() - started).toBeLessThan(900);
});

it('a Retry-After longer than RETRY_AFTER_MAX_MS is not waited for: the 429 is the answer, with its Retry-After', async () => {
  // A gateway of its own: its only key then cools for those 10 s.
  const gw = await start(false);
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 429, retryAfter: 10, times: 1 });
  const started = Date.now();
  const res = await chat(gw);
  expect(res.status).toBe(429);
  expect(res.headers.get('retry-after')).toBe('10');
  expect(Date.now() - started).toBeLessThan(2000);
  expect(emu.requests('deepinfra')).toHaveLength(1);
});

it('a 500 on the only route is retried once after a short backoff; a second 500 is the answer', async () => {
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
  expect((await chat(alone)).status).toBe(200);
  expect(emu.requests('deepinfra')).toHaveLength(2);
  emu.reset();
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 5 });
  const body = (await (await chat(alone)).json()) as ErrorBody;
  expect(body.error.code).toBe('all_providers_failed');
  expect(body.error.attempts?.map((a) => a.status)).toEqual([500, 500]);
});

it('a timeout is never retried on the route that timed out', async () => {
  emu.addFault({ provider: 'deepinfra', mode: 'hang', times: 1 });
  const res = await chat(alone);
  expect(res.status).toBe(504);
  expect(emu.requests('deepinfra')).toHaveLength(1);
});

it('a 500 fails over to a ready fallback without a retry; RETRY_SAME_ROUTE=1 retries the primary first', async () => {
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
  expect((await chat(withFallback)).headers.get('x-pool-provider')).toBe('Together');
  const sameRoute = await start(true, { RETRY_SAME_ROUTE: 'true' });
  emu.reset();
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
  const res = await chat(sameRoute);
  expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
  expect(emu.requests('together')).toHaveLength(0);
  expect((await lastAttempts(sameRoute)).map((a) => [a.provider, a.status])).toEqual([
    ['DeepInfra', 500],
    ['DeepInfra', 200],
  ]);
});

it('RETRY_BUDGET=0 turns same-route retries off', async () => {
  const noRetry = await start(false, { RETRY_BUDGET: '0' });
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
  expect((await chat(noRetry)).status).toBe(502);
  expect(emu.requests('deepinfra')).toHaveLength(1);
});
