/**
 * Model aliases (issue 13): MODEL_ALIASES and the console's map send a requested id, with `*`
 * globs, to a catalog model. Exact catalog ids win, the most specific glob wins, an alias to an
 * unknown model is refused at start or at save, and the console's map survives a restart.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelAliasList, RequestLogPage } from '#contracts';
import { loadConfig } from '../../apps/api/src/config/app-config.ts';
import { createApp } from '../../apps/api/src/bootstrap.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { emulatorEnv, postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';

const ENV = {
  ROUTING_STRATEGY: 'priority',
  DEEPINFRA_PRIORITY: '1',
  TOGETHER_PRIORITY: '2',
  STATS_FLUSH_MS: '100',
  MODEL_ALIASES: JSON.stringify({ 'claude-*': 'qwen-2.5-coder-32b', 'gpt-5*': 'deepseek-v3', 'gpt-5-mini': 'llama-3.1-8b', 'llama-3.3-70b': 'deepseek-v3' }),
};

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterAll(async () => {
  await emu.close();
});

const chat = (gw: Gateway, model: string, stream = false) =>
  postJson(`${gw.baseURL}/chat/completions`, { model, stream, messages: [{ role: 'user', content: 'hi' }] }, { authorization: 'Bearer x' });

/** The log entry of the newest request, once the recorder has flushed it. */
async function lastLogged(gw: Gateway, h: Record<string, string>, model: string): Promise<RequestLogPage['items'][number]> {
  for (let i = 0; i < 100; i++) {
    const page = (await (await fetch(`${gw.url}/api/logs?pageSize=20&model=${encodeURIComponent(model)}`, { headers: h })).json()) as RequestLogPage;
    if (page.items[0]) return page.items[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no log entry for ${model}`);
}

describe('aliases from MODEL_ALIASES', () => {
  let gw: Gateway;
  let h: Record<string, string>;
  beforeAll(async () => {
    gw = await startGateway(emu, ENV);
    h = await adminHeaders(gw);
  });
  afterAll(() => gw.close());
  beforeEach(() => emu.reset());

  it('serves an aliased id with the target model; the headers name the upstream model that served', async () => {
    const res = await chat(gw, 'claude-sonnet-4-5');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    expect(res.headers.get('x-pool-upstream-model')).toBe('Qwen/Qwen2.5-Coder-32B-Instruct');
    expect(emu.requests('together').map((r) => (r.body as { model: string }).model)).toEqual(['Qwen/Qwen2.5-Coder-32B-Instruct']);
    const logged = await lastLogged(gw, h, 'qwen-2.5-coder-32b');
    expect(logged).toMatchObject({ model: 'qwen-2.5-coder-32b', alias: 'claude-*', upstreamModel: 'Qwen/Qwen2.5-Coder-32B-Instruct', status: 200 });
  });

  it('streams through an alias too, each chunk naming the model that served', async () => {
    const res = await chat(gw, 'gpt-5.1', true);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    expect(res.headers.get('x-pool-upstream-model')).toBe('deepseek-ai/DeepSeek-V3');
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    for (const chunk of events.slice(0, -1) as Array<{ model: string }>) expect(chunk.model).toBe('deepseek-ai/DeepSeek-V3');
  });

  it('the answer names the upstream model that served, not the alias', async () => {
    const body = (await (await chat(gw, 'claude-sonnet-4-5')).json()) as { model: string };
    expect(body.model).toBe('Qwen/Qwen2.5-Coder-32B-Instruct');
  });

  it('the most specific glob wins, an exact catalog id beats any alias, and unmatched ids stay 404', async () => {
    await chat(gw, 'gpt-5-mini');
    expect((emu.requests()[0]!.body as { model: string }).model).toMatch(/llama-3\.1-8b|Llama-3\.1-8B/i);
    emu.reset();
    await chat(gw, 'gpt-5-codex');
    expect(emu.requests()[0]!.provider).toBe('deepinfra');
    expect((emu.requests()[0]!.body as { model: string }).model).toMatch(/deepseek-v3/i);
    emu.reset();
    // `llama-3.3-70b` is a catalog id: the alias of the same name never applies.
    await chat(gw, 'LLAMA-3.3-70B');
    expect((emu.requests()[0]!.body as { model: string }).model).toMatch(/llama-3\.3-70b/i);
    const missing = await chat(gw, 'gemini-3');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
  });

  it('lists the aliases in /api/aliases and /api/models', async () => {
    const res = await fetch(`${gw.url}/api/aliases`, { headers: h });
    const body = (await res.json()) as ModelAliasList;
    expect(body.source).toBe('config');
    expect(body.aliases.map((a) => a.pattern)).toEqual(['llama-3.3-70b', 'gpt-5-mini', 'claude-*', 'gpt-5*']);
    expect(body.defaults).toEqual(body.aliases);
    const models = (await (await fetch(`${gw.url}/api/models`, { headers: h })).json()) as {
      aliases: ModelAliasList['aliases'];
      models: Array<{ id: string; aliases: string[] }>;
    };
    expect(models.aliases).toEqual(body.aliases);
    expect(models.models.find((m) => m.id === 'deepseek-v3')!.aliases).toEqual(['llama-3.3-70b', 'gpt-5*']);
    expect((await fetch(`${gw.url}/api/aliases`)).status).toBe(401);
  });
});

describe('RESPONSE_MODEL=requested', () => {
  it('echoes the id the client sent, alias included, in answers and chunks', async () => {
    const gw = await startGateway(emu, { ...ENV, RESPONSE_MODEL: 'requested' });
    try {
      expect(((await (await chat(gw, 'claude-sonnet-4-5')).json()) as { model: string }).model).toBe('claude-sonnet-4-5');
      const chunks = (await readSse(await chat(gw, 'claude-sonnet-4-5', true))).slice(0, -1) as Array<{ model: string }>;
      expect(chunks.length).toBeGreaterThan(2);
      expect(chunks.map((c) => c.model)).toEqual(chunks.map(() => 'claude-sonnet-4-5'));
    } finally {
      await gw.close();
    }
  });

  it('echoes it on /v1/responses and /v1/messages too, whole and streamed', async () => {
    const gw = await startGateway(emu, { ...ENV, RESPONSE_MODEL: 'requested' });
    const h = { authorization: 'Bearer x' };
    const responses = (stream: boolean) => postJson(`${gw.baseURL}/responses`, { model: 'gpt-5-codex', input: 'hi', stream }, h);
    const messages = (stream: boolean) =>
      postJson(`${gw.baseURL}/messages`, { model: 'claude-sonnet-4-5', max_tokens: 64, stream, messages: [{ role: 'user', content: 'hi' }] }, h);
    try {
      const whole = (await (await responses(false)).json()) as { model: string; status: string };
      expect(whole).toMatchObject({ model: 'gpt-5-codex', status: 'completed' });
      const events = (await readSse(await responses(true))) as Array<{ type: string; response?: { model: string } }>;
      const withResponse = events.filter((e) => e.response);
      expect(withResponse.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
      expect(withResponse.map((e) => e.response!.model)).toEqual(['gpt-5-codex', 'gpt-5-codex', 'gpt-5-codex']);

      expect(((await (await messages(false)).json()) as { model: string }).model).toBe('claude-sonnet-4-5');
      const started = ((await readSse(await messages(true))) as Array<{ type: string; message?: { model: string } }>).find((e) => e.type === 'message_start');
      expect(started?.message?.model).toBe('claude-sonnet-4-5');
    } finally {
      await gw.close();
    }
  });

  it('by default names the model that served on both doors, as x-pool-upstream-model does, not the alias', async () => {
    const gw = await startGateway(emu, ENV);
    const h = { authorization: 'Bearer x' };
    try {
      const r = await postJson(`${gw.baseURL}/responses`, { model: 'gpt-5-codex', input: 'hi' }, h);
      const m = await postJson(`${gw.baseURL}/messages`, { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, h);
      for (const [res, alias] of [
        [r, 'gpt-5-codex'],
        [m, 'claude-sonnet-4-5'],
      ] as const) {
        const served = res.headers.get('x-pool-upstream-model');
        expect(served).toBeTruthy();
        expect(served).not.toBe(alias);
        expect(((await res.json()) as { model: string }).model).toBe(served);
      }
    } finally {
      await gw.close();
    }
  });
});

describe('aliases at start', () => {
  it('an alias to an unknown model stops the start, naming it', async () => {
    const env = { ...emulatorEnv(emu), DATA_DIR: mkdtempSync(join(tmpdir(), 'g4f-alias-')), MODEL_ALIASES: '{"claude-*": "no-such-model"}' };
    await expect(createApp(loadConfig(env), { logger: false })).rejects.toThrow(/MODEL_ALIASES: alias "claude-\*" points to the unknown model "no-such-model"/);
  });

  it('CATALOG_FILE may hold aliases too; MODEL_ALIASES wins for the same pattern', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'g4f-alias-'));
    const file = join(dir, 'catalog.yaml');
    writeFileSync(file, 'models: []\naliases:\n  "claude-*": deepseek-v3\n  "o3*": llama-3.1-8b\n');
    const gw = await startGateway(emu, { CATALOG_FILE: file, MODEL_ALIASES: '{"claude-*": "qwen-2.5-coder-32b"}' });
    try {
      const body = (await (await fetch(`${gw.url}/api/aliases`, { headers: await adminHeaders(gw) })).json()) as ModelAliasList;
      expect(body.aliases).toEqual([
        { pattern: 'claude-*', model: 'qwen-2.5-coder-32b' },
        { pattern: 'o3*', model: 'llama-3.1-8b' },
      ]);
    } finally {
      await gw.close();
    }
  });
});

describe('aliases from the console', () => {
  it('PUT replaces the defaults, is checked (400 naming the alias), survives a restart, and DELETE restores the defaults', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-alias-'));
    const first = await startGateway(emu, { ...ENV, DATA_DIR: dataDir });
    let h = await adminHeaders(first);
    const put = (gw: Gateway, aliases: unknown) =>
      fetch(`${gw.url}/api/aliases`, { method: 'PUT', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ aliases }) });
    try {
      const bad = await put(first, { 'claude-*': 'nope', 'has space': 'deepseek-v3' });
      expect(bad.status).toBe(400);
      const err = ((await bad.json()) as { error: { message: string; code: string; param: string } }).error;
      expect(err).toMatchObject({ code: 'invalid_alias', param: 'aliases' });
      expect(err.message).toContain('"claude-*" points to the unknown model "nope"');
      expect(err.message).toContain('"has space"');
      const tooMany = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`m${i}`, 'deepseek-v3']));
      expect((await put(first, tooMany)).status).toBe(400);
      expect((await put(first, ['x'])).status).toBe(400);

      const saved = await put(first, { 'claude-*': 'DeepSeek-V3' });
      expect(saved.status).toBe(200);
      expect(await saved.json()).toMatchObject({ source: 'console', aliases: [{ pattern: 'claude-*', model: 'deepseek-v3' }] });
      expect((await chat(first, 'gpt-5')).status).toBe(404);
      emu.reset();
      expect((await chat(first, 'claude-opus-4')).status).toBe(200);
      expect((emu.requests()[0]!.body as { model: string }).model).toMatch(/deepseek-v3/i);
    } finally {
      await first.close();
    }

    const second = await startGateway(emu, { ...ENV, DATA_DIR: dataDir });
    h = await adminHeaders(second);
    try {
      emu.reset();
      expect((await chat(second, 'claude-opus-4')).status).toBe(200);
      expect((emu.requests()[0]!.body as { model: string }).model).toMatch(/deepseek-v3/i);
      const reset = await fetch(`${second.url}/api/aliases`, { method: 'DELETE', headers: h });
      expect(await reset.json()).toMatchObject({ source: 'config' });
      emu.reset();
      await chat(second, 'claude-opus-4');
      expect((emu.requests()[0]!.body as { model: string }).model).toBe('Qwen/Qwen2.5-Coder-32B-Instruct');
    } finally {
      await second.close();
    }
  });
});
