import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

interface KeyView {
  id: string;
  source: 'env' | 'console';
  label: string | null;
  masked: string;
}
interface Provider {
  name: string;
  enabled: boolean;
  status: string;
  reason: string | null;
  baseUrl: string;
  keys: KeyView[];
  models: number;
  custom: boolean;
  upstream: { source: string; models: Record<string, string> } | null;
  priority: number | null;
  proxy: string | null;
  extra: Record<string, string>;
  requiredExtra: string[];
  overridden: string[];
}

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());
afterEach(() => emu.reset());

async function api<T>(gw: Gateway, headers: Record<string, string>, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${gw.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const chat = (gw: Gateway, model: string, provider?: string) =>
  postJson(`${gw.baseURL}/chat/completions`, { model, provider, messages: [{ role: 'user', content: 'hi' }] });

describe('provider management', () => {
  let gw: Gateway;
  let h: Record<string, string>;
  const dataDir = mkdtempSync(join(tmpdir(), 'g4f-prov-'));
  beforeAll(async () => {
    gw = await startGateway(emu, { DATA_DIR: dataDir, DEEPINFRA_API_KEY: '' });
    h = await adminHeaders(gw);
  });
  afterAll(() => gw?.close());

  it('every endpoint needs the admin token', async () => {
    for (const [method, path] of [
      ['GET', '/api/providers'],
      ['GET', '/api/providers/deepinfra'],
      ['POST', '/api/providers/deepinfra/toggle'],
      ['PATCH', '/api/providers/deepinfra'],
      ['POST', '/api/providers/deepinfra/keys'],
      ['GET', '/api/upstreams'],
      ['POST', '/api/upstreams'],
    ] as const) {
      const res = await fetch(`${gw.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
      expect(res.status).toBe(401);
      expectSchema('ErrorResponse', await res.json());
    }
  });

  it('lists every provider with its status, why it is not available, and masked keys only', async () => {
    const { status, body } = await api<Provider[]>(gw, h, 'GET', '/api/providers');
    expect(status).toBe(200);
    expect(body.map((p) => p.name)).toEqual(['PollinationsAI', 'DeepInfra', 'Together', 'HuggingFace', 'CloudflareAI']);
    const deepinfra = body.find((p) => p.name === 'DeepInfra')!;
    // 43 chat and image models, 4 embedding and 2 speech-to-text ones.
    expect(deepinfra).toMatchObject({ status: 'unconfigured', reason: 'needs an API key (DEEPINFRA_API_KEY)', models: 49 });
    const together = body.find((p) => p.name === 'Together')!;
    expect(together.keys).toEqual([expect.objectContaining({ source: 'env', masked: '****0001' })]);
    expect(JSON.stringify(body)).not.toContain('tg-good-key-0001');
  });

  it('a key added from the console makes a provider usable, is stored encrypted, and can be removed', async () => {
    expect((await chat(gw, 'llama-3.3-70b', 'DeepInfra')).status).toBe(503);
    const added = await api<Provider>(gw, h, 'POST', '/api/providers/DeepInfra/keys', { key: 'di-console-key-7777', label: '主账号' });
    expect(added.status).toBe(201);
    expect(added.body.status).toBe('available');
    expect(added.body.keys).toEqual([expect.objectContaining({ source: 'console', label: '主账号', masked: '****7777' })]);
    expect(JSON.stringify(added.body)).not.toContain('di-console-key-7777');

    const res = await chat(gw, 'llama-3.3-70b', 'DeepInfra');
    expect(res.status).toBe(200);
    expect(emu.requests('deepinfra').at(-1)!.headers.authorization).toBe('Bearer di-console-key-7777');

    // Nothing in DATA_DIR holds the key in the clear (SQLite file, WAL, the master key file).
    const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name)).includes('di-console-key-7777')).toBe(false);

    const test = await api<{ ok: boolean; probe: string }>(gw, h, 'POST', `/api/providers/deepinfra/keys/${added.body.keys[0]!.id}/test`);
    expect(test.body).toMatchObject({ ok: true, probe: 'models' });

    const removed = await api(gw, h, 'DELETE', `/api/providers/deepinfra/keys/${added.body.keys[0]!.id}`);
    expect(removed.status).toBe(204);
    expect((await api<Provider>(gw, h, 'GET', '/api/providers/deepinfra')).body.status).toBe('unconfigured');
  });

  it('testing a bad key reports the upstream refusal', async () => {
    const added = await api<Provider>(gw, h, 'POST', '/api/providers/deepinfra/keys', { key: 'bad-key-console' });
    const id = added.body.keys.find((k) => k.source === 'console')!.id;
    const test = await api<{ ok: boolean; error: string }>(gw, h, 'POST', `/api/providers/deepinfra/keys/${id}/test`);
    expect(test.body.ok).toBe(false);
    expect(test.body.error).toMatch(/401/);
    await api(gw, h, 'DELETE', `/api/providers/deepinfra/keys/${id}`);
  });

  it('POST /api/providers/{name}/health probes the provider now and shows the result', async () => {
    const ok = await api<Provider & { lastCheck: { ok: boolean; probe: string } | null }>(gw, h, 'POST', '/api/providers/Together/health');
    expect(ok.status).toBe(200);
    // A one-token chat, not a model-list read: what users use.
    expect(ok.body.lastCheck).toMatchObject({ ok: true, probe: 'chat', model: expect.any(String) });
    emu.addFault({ provider: 'together', mode: 'status', status: 503, path: 'chat' });
    const bad = await api<Provider & { lastCheck: { ok: boolean; error: string } | null }>(gw, h, 'POST', '/api/providers/together/health');
    expect(bad.body.lastCheck!.ok).toBe(false);
    expect(bad.body.lastCheck!.error).toMatch(/503/);
    expect((await api(gw, h, 'POST', '/api/providers/nope/health')).status).toBe(404);
  });

  it('keys from the environment cannot be deleted from the console', async () => {
    const together = (await api<Provider>(gw, h, 'GET', '/api/providers/together')).body;
    const res = await api<{ error: { code: string } }>(gw, h, 'DELETE', `/api/providers/together/keys/${together.keys[0]!.id}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('key_read_only');
  });

  it('toggling a provider off takes it out of routing at once, and back on', async () => {
    const off = await api<Provider>(gw, h, 'POST', '/api/providers/together/toggle');
    expect(off.body).toMatchObject({ enabled: false, status: 'disabled' });
    for (let i = 0; i < 8; i++) expect((await chat(gw, 'llama-3.3-70b')).headers.get('x-pool-provider')).not.toBe('Together');
    expect(emu.requests('together')).toHaveLength(0);
    const on = await api<Provider>(gw, h, 'POST', '/api/providers/together/toggle');
    expect(on.body).toMatchObject({ enabled: true, status: 'available' });
    expect((await chat(gw, 'llama-3.3-70b', 'Together')).status).toBe(200);
  });

  it('PATCH changes settings; null goes back to the environment value', async () => {
    // Another host needs its own key (secrets.e2e-spec tests the rule); the environment's stays with its host.
    const broken = await api<Provider>(gw, h, 'PATCH', '/api/providers/together', {
      baseUrl: 'http://127.0.0.1:9/nowhere',
      priority: 3,
      key: 'tg-nowhere-key-0009',
    });
    expect(broken.body.baseUrl).toBe('http://127.0.0.1:9/nowhere');
    expect((await chat(gw, 'llama-3.3-70b', 'Together')).status).toBe(502);
    // Toggled off and on again above: `enabled` is the console's setting too.
    expect(broken.body).toMatchObject({ priority: 3, proxy: null, overridden: ['enabled', 'baseUrl', 'priority'] });
    const back = await api<Provider>(gw, h, 'PATCH', '/api/providers/together', { baseUrl: null });
    expect(back.body.baseUrl).toBe(emu.baseUrl('together'));
    expect(back.body.overridden).toEqual(['enabled', 'priority']);

    // What the console's settings form shows: the proxy (its password masked) and the provider's own settings.
    const proxied = await api<Provider>(gw, h, 'PATCH', '/api/providers/together', { proxy: 'http://me:s3cret@127.0.0.1:9', extra: { region: 'cn' } });
    expect(proxied.body).toMatchObject({ proxy: 'http://me:****@127.0.0.1:9', extra: { region: 'cn' }, requiredExtra: [] });
    expect(proxied.body.overridden).toEqual(['enabled', 'proxy', 'priority', 'extra']);
    expect(JSON.stringify(proxied.body)).not.toContain('s3cret');
    const cleared = await api<Provider>(gw, h, 'PATCH', '/api/providers/together', { proxy: null, priority: null });
    expect(cleared.body).toMatchObject({ proxy: null, priority: null, overridden: ['enabled', 'extra'] });
    const cloudflare = (await api<Provider>(gw, h, 'GET', '/api/providers/cloudflareai')).body;
    expect(cloudflare).toMatchObject({ requiredExtra: ['accountId'], extra: { accountId: 'acct-123' }, overridden: [] });
  });

  it('bad input to every write endpoint is a 400 naming the param, and changes nothing', async () => {
    const before = (await api<Provider[]>(gw, h, 'GET', '/api/providers')).body;
    const cases: Array<[string, string, unknown, string]> = [
      ['PATCH', '/api/providers/together', { enabled: 'yes' }, 'enabled'],
      ['PATCH', '/api/providers/together', { baseUrl: 'ftp://x' }, 'baseUrl'],
      ['PATCH', '/api/providers/together', { priority: -1 }, 'priority'],
      ['PATCH', '/api/providers/together', { extra: { accountId: 5 } }, 'extra'],
      ['POST', '/api/providers/together/keys', { key: '' }, 'key'],
      ['POST', '/api/providers/together/keys', {}, 'key'],
      ['POST', '/api/upstreams', { name: 'has space', baseUrl: 'http://x', models: { a: 'b' } }, 'name'],
      ['POST', '/api/upstreams', { name: 'ok', baseUrl: 'not a url', models: { a: 'b' } }, 'baseUrl'],
      ['POST', '/api/upstreams', { name: 'ok', baseUrl: 'http://x', models: {} }, 'models'],
    ];
    for (const [method, path, body, param] of cases) {
      const res = await api<{ error: { param: string } }>(gw, h, method, path, body);
      expect([res.status, res.body.error.param]).toEqual([400, param]);
    }
    expect((await api(gw, h, 'PATCH', '/api/providers/nope', {})).status).toBe(404);
    expect((await api<Provider[]>(gw, h, 'GET', '/api/providers')).body).toEqual(before);
  });

  it('samplingParams of an upstream: a name the gateway does not know is a 400 naming it; GET shows the saved list; a chat carries only those', async () => {
    const bad = await api<{ error: { param: string; message: string } }>(gw, h, 'POST', '/api/upstreams', {
      name: 'Sampler',
      baseUrl: emu.baseUrl('custom'),
      models: { 'sampler-llama': 'llama3.2' },
      samplingParams: ['top_k', 'topk'],
    });
    expect([bad.status, bad.body.error.param]).toEqual([400, 'samplingParams']);
    expect(bad.body.error.message).toContain('"topk"');
    expect((await api(gw, h, 'GET', '/api/providers/Sampler')).status).toBe(404);

    const created = await api<Provider>(gw, h, 'POST', '/api/upstreams', {
      name: 'Sampler',
      baseUrl: emu.baseUrl('custom'),
      models: { 'sampler-llama': 'llama3.2' },
      samplingParams: ['top_k', 'min_p', 'top_k'],
    });
    expect(created.status).toBe(201);
    expect((await api<Provider>(gw, h, 'GET', '/api/providers/Sampler')).body.upstream).toMatchObject({ samplingParams: ['top_k', 'min_p'] });
    emu.reset();
    emu.setSamplingAccepts('custom', ['top_k', 'min_p']);
    const body = { model: 'sampler-llama', messages: [{ role: 'user', content: 'hi' }], top_k: 20, min_p: 0.1, repetition_penalty: 1.2 };
    expect((await postJson(`${gw.baseURL}/chat/completions`, body)).status).toBe(200);
    expect(emu.requests('custom')[0]!.body).toMatchObject({ top_k: 20, min_p: 0.1 });
    expect(emu.requests('custom')[0]!.body).not.toHaveProperty('repetition_penalty');

    const edited = await api<Provider>(gw, h, 'PATCH', '/api/upstreams/Sampler', {
      name: 'Sampler',
      baseUrl: emu.baseUrl('custom'),
      models: { 'sampler-llama': 'llama3.2' },
    });
    expect(edited.body.upstream).toMatchObject({ samplingParams: [] });
    emu.reset();
    expect((await postJson(`${gw.baseURL}/chat/completions`, body)).status).toBe(200);
    expect(emu.requests('custom')[0]!.body).not.toHaveProperty('top_k');
    expect((await api(gw, h, 'DELETE', '/api/upstreams/Sampler')).status).toBe(204);
  });

  it('operator-defined upstreams: create, route to, edit, delete', async () => {
    const created = await api<Provider>(gw, h, 'POST', '/api/upstreams', {
      name: 'HomeOllama',
      baseUrl: emu.baseUrl('custom'),
      ownedBy: 'Me',
      models: { 'home-llama': 'llama3.2', 'gpt-4o-mini': 'gpt-4o-mini' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'HomeOllama', custom: true, status: 'available', upstream: { source: 'console' } });
    const models = (await (await fetch(`${gw.baseURL}/models`)).json()) as { data: Array<{ id: string; owned_by: string }> };
    expect(models.data).toContainEqual(expect.objectContaining({ id: 'home-llama', owned_by: 'Me' }));
    const res = await chat(gw, 'home-llama');
    expect(res.headers.get('x-pool-provider')).toBe('HomeOllama');
    expect(res.headers.get('x-pool-upstream-model')).toBe('llama3.2');
    expect((await chat(gw, 'gpt-4o-mini', 'homeollama')).status).toBe(200);

    expect((await api(gw, h, 'POST', '/api/upstreams', { name: 'homeollama', baseUrl: emu.baseUrl('custom'), models: { x: 'y' } })).status).toBe(409);
    expect((await api(gw, h, 'POST', '/api/upstreams', { name: 'deepinfra', baseUrl: emu.baseUrl('custom'), models: { x: 'y' } })).status).toBe(409);

    const edited = await api<Provider>(gw, h, 'PATCH', '/api/upstreams/HomeOllama', {
      name: 'HomeOllama',
      baseUrl: emu.baseUrl('custom'),
      models: { 'home-qwen': 'qwen2.5:7b' },
    });
    expect(edited.body.upstream!.models).toEqual({ 'home-qwen': 'qwen2.5:7b' });
    expect((await chat(gw, 'home-llama')).status).toBe(404);
    expect((await chat(gw, 'home-qwen')).headers.get('x-pool-upstream-model')).toBe('qwen2.5:7b');

    expect((await api(gw, h, 'DELETE', '/api/upstreams/HomeOllama')).status).toBe(204);
    expect((await chat(gw, 'home-qwen')).status).toBe(404);
    expect((await api(gw, h, 'GET', '/api/providers/HomeOllama')).status).toBe(404);
  });

  it('everything changed from the console survives a restart', async () => {
    await api(gw, h, 'POST', '/api/providers/huggingface/toggle');
    await api(gw, h, 'POST', '/api/providers/deepinfra/keys', { key: 'di-kept-key-4242' });
    await api(gw, h, 'POST', '/api/upstreams', { name: 'Kept', baseUrl: emu.baseUrl('custom'), models: { 'kept-model': 'llama3.2' } });
    await gw.close();

    gw = await startGateway(emu, { DATA_DIR: dataDir, DEEPINFRA_API_KEY: '' });
    h = await adminHeaders(gw);
    const providers = (await api<Provider[]>(gw, h, 'GET', '/api/providers')).body;
    expect(providers.find((p) => p.name === 'HuggingFace')).toMatchObject({ enabled: false });
    expect(providers.find((p) => p.name === 'DeepInfra')!.keys).toEqual([expect.objectContaining({ masked: '****4242' })]);
    expect((await chat(gw, 'llama-3.3-70b', 'DeepInfra')).status).toBe(200);
    expect(emu.requests('deepinfra').at(-1)!.headers.authorization).toBe('Bearer di-kept-key-4242');
    expect((await chat(gw, 'kept-model')).headers.get('x-pool-provider')).toBe('Kept');
  });
});
