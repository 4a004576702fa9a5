/**
 * Secrets never leave: an upstream that echoes the key it was sent (and other secrets) in its
 * error text gets none of them to the client, the request log, the console's provider views,
 * health results or the log; masks show at most 4 characters of a secret; URL credentials are
 * masked wherever a URL is shown; a provider's keys are never sent to a host they were not given for.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../emulators/emulator.ts';
import { adminHeaders } from '../../support/admin.ts';
import { postJson, startGateway, type Gateway } from '../../support/gateway.ts';
import { CapturingLogger } from '../../support/capturing-logger.ts';

/** DeepInfra's key, from the environment. */
const DI_KEY = 'di-live-7fK2qX9mZ4wP8sL1';
/** A key-shaped token the gateway was never given. */
const STRANGER = 'sk-proj-Zx9Cv8Bn7Mm6Ll5Kk4Jj3';
/** The password of HuggingFace's proxy (HUGGINGFACE_PROXY). */
const PROXY_PASS = 'pX7q-Rz2w-Lk9m';
/** The password in the URL of an upstream from PROVIDERS_FILE. */
const FILE_PASS = 'uP4s-Wd8k-Nb3v';
/** The password in the URL of an upstream added from the console. */
const TEAM_PASS = 'tM5r-Qa1z-Hy6c';
/** Keys entered from the console for DeepInfra on another host. */
const MOVED_KEY = 'di-moved-Jq2Lp9Xv4Tn0Rw7e';

const SECRETS = [DI_KEY, STRANGER.slice('sk-'.length), PROXY_PASS, FILE_PASS, TEAM_PASS, MOVED_KEY];
/** What an upstream could say: every secret, plainly and in the usual disguises. */
const ECHO =
  `Invalid API key ${DI_KEY} (header "Authorization: Bearer ${DI_KEY}"); did you mean ${STRANGER}? ` +
  `proxy http://px:${PROXY_PASS}@10.0.0.1:3128 password=${FILE_PASS}`;

/** Every 5 characters in a row of a secret that appear in `text` (a mask shows at most 4). */
function leaks(text: string): string[] {
  return SECRETS.flatMap((s) => Array.from({ length: s.length - 4 }, (_, i) => s.slice(i, i + 5))).filter((part) => text.includes(part));
}

/** "****" and at most the last 4 characters: what a mask may show of a key (or the slot of no key). */
const MASK = /^(\*{4}.{0,4}|\(anonymous\))$/;

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; attempts?: Array<{ key?: string }> };
}
interface ProviderView {
  id: string;
  name: string;
  baseUrl: string;
  proxy: string | null;
  keys: Array<{ id: string; masked: string; source: string }>;
  health: { lastError: string | null };
  lastCheck: { error: string | null } | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let emu: Emulator;
let gw: Gateway;
let h: Record<string, string>;
const log = new CapturingLogger();

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  const file = join(mkdtempSync(join(tmpdir(), 'g4f-secrets-')), 'providers.yaml');
  const fileUrl = `http://corp:${FILE_PASS}@127.0.0.1:${new URL(emu.url).port}/custom/v1`;
  writeFileSync(file, `upstreams:\n  - name: Corp\n    baseUrl: ${fileUrl}\n    models:\n      corp-llama: llama3.2\n`);
  gw = await startGateway(
    emu,
    {
      DEEPINFRA_API_KEY: DI_KEY,
      HUGGINGFACE_PROXY: `http://px:${PROXY_PASS}@127.0.0.1:9`,
      PROVIDERS_FILE: file,
      STATS_FLUSH_MS: '100',
      // The echoing faults fail DeepInfra several times; it must not cool down for the later tests.
      BREAKER_FAILURE_THRESHOLD: '100',
    },
    { logger: log },
  );
  h = await adminHeaders(gw);
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

afterEach(() => emu.reset());

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(`${gw.url}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, text };
}

const chat = (model: string, provider: string) => postJson(`${gw.baseURL}/chat/completions`, { model, provider, messages: [{ role: 'user', content: 'hi' }] });

const deepinfra = async () => (await api<ProviderView>('GET', '/api/providers/DeepInfra')).body;

describe('an upstream that echoes its key', () => {
  it('gets no secret to the client: its own words (400) and the all-failed summary (502) are scrubbed', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 400, message: ECHO, times: 1 });
    const bad = await chat('llama-3.3-70b', 'DeepInfra');
    const badText = await bad.text();
    expect(bad.status).toBe(400);
    expect(leaks(badText)).toEqual([]);
    const badBody = JSON.parse(badText) as ErrorBody;
    expect(badBody.error).toMatchObject({ type: 'invalid_request_error', code: 'upstream_bad_request' });
    // Scrubbed, not dropped: the upstream's words are still there, the secrets masked.
    expect(badBody.error.message).toContain('Invalid API key ****8sL1');
    expect(badBody.error.message).toContain('Bearer ****');
    expect(badBody.error.message).toContain('sk-****');

    // Twice: a 5xx on the only route left is retried once on it.
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, message: ECHO, times: 2 });
    const failed = await chat('llama-3.3-70b', 'DeepInfra');
    const failedText = await failed.text();
    expect(failed.status).toBe(502);
    expect(leaks(failedText)).toEqual([]);
    const failedBody = JSON.parse(failedText) as ErrorBody;
    expect(failedBody.error.code).toBe('all_providers_failed');
    expect(failedBody.error.message).toContain('****8sL1');
    expect(failedBody.error.attempts!.map((a) => a.key)).toEqual(['****8sL1', '****8sL1']);
  });

  it('leaves no secret in the request log, and its attempts show masked keys', async () => {
    // Twice: a 5xx on the only route left is retried once on it.
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, message: ECHO, times: 2 });
    const res = await chat('llama-3.3-70b', 'DeepInfra');
    const requestId = res.headers.get('x-request-id');
    expect(res.status).toBe(502);
    let page: { items: Array<{ requestId: string; error: string | null; attempts: Array<{ key?: string }> }> } | undefined;
    for (let i = 0; i < 50; i++) {
      page = (await api<typeof page>('GET', '/api/logs?pageSize=50')).body;
      if (page!.items.some((e) => e.requestId === requestId)) break;
      await sleep(100);
    }
    const entry = page!.items.find((e) => e.requestId === requestId);
    expect(entry?.error).toContain('****8sL1');
    expect(leaks(JSON.stringify(page))).toEqual([]);
    const keys = page!.items.flatMap((e) => e.attempts.flatMap((a) => (a.key ? [a.key] : [])));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(MASK);
  });

  it('leaves no secret in /api/providers: last errors, breakers, masks, proxy and upstream URLs', async () => {
    const { body, text } = await api<ProviderView[]>('GET', '/api/providers');
    expect(leaks(text)).toEqual([]);
    const di = body.find((p) => p.name === 'DeepInfra')!;
    expect(di.health.lastError).toContain('****8sL1');
    for (const key of body.flatMap((p) => p.keys)) expect(key.masked).toMatch(MASK);
    expect(body.find((p) => p.name === 'HuggingFace')!.proxy).toBe('http://px:****@127.0.0.1:9');
    expect(body.find((p) => p.name === 'Corp')!.baseUrl).toBe(`http://corp:****@127.0.0.1:${new URL(emu.url).port}/custom/v1`);
    const upstreams = await api<ProviderView[]>('GET', '/api/upstreams');
    expect(leaks(upstreams.text)).toEqual([]);
    expect(upstreams.body.map((p) => p.baseUrl)).toEqual([`http://corp:****@127.0.0.1:${new URL(emu.url).port}/custom/v1`]);
  });

  it('leaves no secret in a health check, a key test or the log lines they write', async () => {
    emu.addFault({ provider: 'deepinfra', path: 'models', mode: 'status', status: 500, message: ECHO });
    // The health check's one-token chat echoes it too.
    emu.addFault({ provider: 'deepinfra', path: 'chat', mode: 'status', status: 500, message: ECHO, times: 1 });
    const checked = await api<ProviderView>('POST', '/api/providers/DeepInfra/health');
    expect(checked.status).toBe(200);
    expect(checked.body.lastCheck?.error).toContain('****8sL1');
    expect(leaks(checked.text)).toEqual([]);

    const keyId = checked.body.keys[0]!.id;
    const tested = await api<{ ok: boolean; error: string | null }>('POST', `/api/providers/DeepInfra/keys/${keyId}/test`);
    expect(tested.body.ok).toBe(false);
    expect(tested.body.error).toContain('****8sL1');
    expect(leaks(tested.text)).toEqual([]);

    const history = await api<{ items: Array<{ error: string | null }> }>('GET', '/api/health/history/DeepInfra');
    expect(history.status).toBe(200);
    expect(history.body.items[0]?.error).toContain('****8sL1');
    expect(leaks(history.text)).toEqual([]);

    // The health service logged the failure (the line is there, scrubbed).
    expect(log.lines.some((l) => l.includes('DeepInfra is unhealthy') && l.includes('****8sL1'))).toBe(true);
    expect(leaks(log.lines.join('\n'))).toEqual([]);
  });
});

describe('an upstream added from the console with credentials in its URL', () => {
  const port = () => new URL(emu.url).port;
  const teamUrl = () => `http://team:${TEAM_PASS}@127.0.0.1:${port()}/custom/v1`;
  const shown = () => `http://team:****@127.0.0.1:${port()}/custom/v1`;

  it('shows them masked; sent back masked, they stand for the stored ones (same host only)', async () => {
    const created = await api<ProviderView>('POST', '/api/upstreams', { name: 'team', baseUrl: teamUrl(), models: { 'team-llama': 'llama3.2' } });
    expect(created.status).toBe(201);
    expect(created.body.baseUrl).toBe(shown());
    expect(leaks(created.text)).toEqual([]);

    // The console's edit form sends the URL as it was shown.
    const saved = await api<ProviderView>('PATCH', '/api/upstreams/team', { name: 'team', baseUrl: shown(), models: { 'team-llama': 'llama3.2' } });
    expect(saved.status).toBe(200);
    expect(saved.body.baseUrl).toBe(shown());
    // The real password was kept: it is still a known secret, scrubbed when the upstream echoes it.
    emu.addFault({ provider: 'custom', mode: 'status', status: 400, message: `bad credentials ${TEAM_PASS}`, times: 1 });
    const res = await chat('team-llama', 'team');
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).toContain('bad credentials ****');
    expect(leaks(text)).toEqual([]);

    // The masked credentials do not follow the URL to another host: the full URL is needed there.
    const moved = await api<ErrorBody>('PATCH', '/api/upstreams/team', {
      name: 'team',
      baseUrl: `http://team:****@localhost:${port()}/custom/v1`,
      models: { 'team-llama': 'llama3.2' },
    });
    expect(moved.status).toBe(400);
    expect(moved.body.error).toMatchObject({ type: 'invalid_request_error', param: 'baseUrl', code: 'credentials_hidden' });
    expect((await api<ProviderView>('GET', '/api/providers/team')).body.baseUrl).toBe(shown());
    expect((await api<unknown>('DELETE', '/api/upstreams/team')).status).toBe(204);
  });
});

describe('moving a provider to another host', () => {
  const port = () => new URL(emu.url).port;
  /** The emulator again, under another origin: whatever the gateway sends "there" is recorded. */
  const elsewhere = () => `http://localhost:${port()}/deepinfra/v1/openai`;
  const sentKeys = () => emu.requests('deepinfra').map((r) => r.headers.authorization);

  it('is refused without the key for the new host, and nothing changes', async () => {
    const res = await api<ErrorBody>('PATCH', '/api/providers/DeepInfra', { baseUrl: elsewhere() });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: 'key', code: 'key_required_for_new_host' });
    expect(res.body.error.message).toContain(`http://localhost:${port()}`);
    expect((await deepinfra()).baseUrl).toBe(emu.baseUrl('deepinfra'));
    expect(sentKeys()).toEqual([]);
  });

  it('needs no key for another path on the same host', async () => {
    const res = await api<ProviderView>('PATCH', '/api/providers/DeepInfra', { baseUrl: `${emu.url}/deepinfra/v1/openai/` });
    expect(res.status).toBe(200);
    expect(res.body.keys.map((k) => k.masked)).toEqual(['****8sL1']);
    expect((await api<ProviderView>('PATCH', '/api/providers/DeepInfra', { baseUrl: null })).status).toBe(200);
  });

  it('with the new key sends only that key there, and the environment key again once back', async () => {
    const moved = await api<ProviderView>('PATCH', '/api/providers/DeepInfra', { baseUrl: elsewhere(), key: MOVED_KEY });
    expect(moved.status).toBe(200);
    expect(moved.body.baseUrl).toBe(elsewhere());
    expect(moved.body.keys).toEqual([expect.objectContaining({ source: 'console', masked: '****Rw7e' })]);
    expect(leaks(moved.text)).toEqual([]);
    expect((await chat('llama-3.3-70b', 'DeepInfra')).status).toBe(200);
    expect(sentKeys()).toEqual([`Bearer ${MOVED_KEY}`]);

    // Back to the environment's host: its key is used there again, the moved one stays with its host.
    const back = await api<ProviderView>('PATCH', '/api/providers/DeepInfra', { baseUrl: null });
    expect(back.status).toBe(200);
    expect(back.body.keys.map((k) => k.masked)).toEqual(['****8sL1']);
    expect((await chat('llama-3.3-70b', 'DeepInfra')).status).toBe(200);
    expect(sentKeys()).toEqual([`Bearer ${MOVED_KEY}`, `Bearer ${DI_KEY}`]);
  });
});
