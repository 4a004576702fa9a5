/**
 * Virtual `auto` models (issue 18): each request is served by the best usable catalog model of an
 * ordered preference list that can honour it (tools, image input), failing over to the next model
 * when every route of one fails before the first byte. Listed in /v1/models; the answer and its
 * headers name the model that served, the request log keeps the virtual id asked for.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AutoModelList, ModelList, RequestLogPage } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const WEATHER = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
  },
];

/** The catalog file's virtual models: qwen-1.5-7b is served by Cloudflare alone, whose mapping of it carries no tools. */
const CATALOG = `
models: []
auto_models:
  - id: auto-tools-test
    models: [qwen-1.5-7b, deepseek-v3]
  - id: auto-see-test
    models: [deepseek-v3, llama-4-maverick]
  - id: auto-chain-test
    models: [deepseek-v3, qwen-3-235b]
  - id: auto-image-test
    kind: image
    models: [gpt-image, flux-schnell]
`;

let emu: Emulator;
let gw: Gateway;
let h: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  const dir = mkdtempSync(join(tmpdir(), 'g4f-auto-'));
  writeFileSync(join(dir, 'catalog.yaml'), CATALOG);
  gw = await startGateway(emu, { ...FIXED_ORDER_ENV, CATALOG_FILE: join(dir, 'catalog.yaml'), STATS_FLUSH_MS: '50' });
  h = await adminHeaders(gw);
});
afterAll(async () => {
  await gw.close();
  await emu.close();
});
beforeEach(() => emu.reset());

const auth = { authorization: 'Bearer x' };
const chat = (body: Record<string, unknown>) => postJson(`${gw.baseURL}/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], ...body }, auth);
const upstreamModels = () => emu.requests().map((r) => `${r.provider}:${(r.body as { model?: string }).model ?? r.path}`);

/** The newest log entry of requests served by `model`, once the recorder has flushed it. */
async function lastLogged(model: string, since: number): Promise<RequestLogPage['items'][number]> {
  for (let i = 0; i < 100; i++) {
    const page = (await (await fetch(`${gw.url}/api/logs?pageSize=5&model=${encodeURIComponent(model)}`, { headers: h })).json()) as RequestLogPage;
    const item = page.items.find((it) => it.startedAt >= since - 5);
    if (item) return item;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no log entry for ${model}`);
}

describe('auto models', () => {
  it('/v1/models lists the shipped and the configured virtual models; /v1/models/auto answers', async () => {
    const list = (await (await fetch(`${gw.baseURL}/models`, { headers: auth })).json()) as ModelList;
    const ids = list.data.map((m) => m.id);
    for (const id of ['auto', 'auto-coder', 'auto-reasoning', 'auto-vision', 'auto-image', 'auto-tools-test', 'auto-image-test']) expect(ids).toContain(id);
    expect(list.data.find((m) => m.id === 'auto')).toMatchObject({ object: 'model', owned_by: 'gpt4free-pool' });
    const one = await fetch(`${gw.baseURL}/models/auto-coder`, { headers: auth });
    expect(one.status).toBe(200);
    expect(((await one.json()) as { id: string }).id).toBe('auto-coder');
    const listed = (await (await fetch(`${gw.url}/api/auto-models`, { headers: h })).json()) as AutoModelList;
    expect(listed.source).toBe('config');
    expect(listed.models.find((m) => m.id === 'auto-tools-test')).toMatchObject({ kind: 'chat', models: ['qwen-1.5-7b', 'deepseek-v3'], others: false });
  });

  it('picks the first model that can honour tools; without tools the first choice serves', async () => {
    const plain = await chat({ model: 'auto-tools-test' });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-pool-provider')).toBe('CloudflareAI');

    emu.reset();
    const since = Date.now();
    const res = await chat({ model: 'auto-tools-test', tools: WEATHER });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    expect(res.headers.get('x-pool-upstream-model')).toBe('deepseek-ai/DeepSeek-V3');
    expect(((await res.json()) as { model: string }).model).toBe('deepseek-ai/DeepSeek-V3');
    expect(upstreamModels()).toEqual(['deepinfra:deepseek-ai/DeepSeek-V3']);
    const logged = await lastLogged('deepseek-v3', since);
    expect(logged).toMatchObject({
      model: 'deepseek-v3',
      alias: 'auto-tools-test',
      provider: 'DeepInfra',
      upstreamModel: 'deepseek-ai/DeepSeek-V3',
      status: 200,
    });
  });

  it('a request with an image goes to the first model that takes images', async () => {
    const text = await chat({ model: 'auto-see-test' });
    expect(text.headers.get('x-pool-upstream-model')).toBe('deepseek-ai/DeepSeek-V3');
    const res = await chat({
      model: 'auto-see-test',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: PNG } },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-upstream-model')).toBe('meta-llama/Llama-4-Maverick-17B-128E-Instruct');
  });

  it("a request every route of a model refuses with 400 ends with the upstream's words, not on every model", async () => {
    for (const provider of ['deepinfra', 'together'] as const)
      emu.addFault({ provider, mode: 'status', status: 400, message: 'bad parameter: foo', model: 'deepseek-ai/DeepSeek-V3' });
    const res = await chat({ model: 'auto-chain-test' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('bad parameter: foo');
    expect(upstreamModels().filter((m) => m.includes('Qwen3'))).toEqual([]);
  });

  it('fails over to the next model when every route of the first fails before the first byte, streamed too', async () => {
    for (const provider of ['deepinfra', 'together'] as const) emu.addFault({ provider, mode: 'status', status: 500, model: 'deepseek-ai/DeepSeek-V3' });
    const since = Date.now();
    const res = await chat({ model: 'auto-chain-test' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-upstream-model')).toBe('Qwen/Qwen3-235B');
    const logged = await lastLogged('qwen-3-235b', since);
    expect(logged).toMatchObject({ model: 'qwen-3-235b', alias: 'auto-chain-test', upstreamModel: 'Qwen/Qwen3-235B', status: 200 });
    const failed = logged.attempts.filter((a) => a.upstream_model === 'deepseek-ai/DeepSeek-V3');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((a) => a.status === 500)).toBe(true);

    const streamed = await chat({ model: 'auto-chain-test', stream: true });
    expect(streamed.status).toBe(200);
    const chunks = await readSse(streamed);
    expect(chunks.at(-1)).toBe('[DONE]');
    for (const chunk of chunks.slice(0, -1) as Array<{ model: string }>) expect(chunk.model).toBe('Qwen/Qwen3-235B');
  });

  it('when every model fails, the error lists every attempt of every model', async () => {
    for (const provider of ['deepinfra', 'together', 'huggingface'] as const) emu.addFault({ provider, mode: 'status', status: 500 });
    const res = await chat({ model: 'auto-chain-test' });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; attempts: Array<{ upstream_model: string }> } };
    expect(body.error.code).toBe('all_providers_failed');
    const models = new Set(body.error.attempts.map((a) => a.upstream_model));
    expect(models).toEqual(new Set(['deepseek-ai/DeepSeek-V3', 'Qwen/Qwen3-235B']));
  });

  it('serves /v1/responses and /v1/messages too', async () => {
    const responses = await postJson(`${gw.baseURL}/responses`, { model: 'auto-chain-test', input: 'hi' }, auth);
    expect(responses.status).toBe(200);
    // Which of the two serves depends on the providers' health after the failures above: either, named alike.
    const served = responses.headers.get('x-pool-upstream-model');
    expect(['deepseek-ai/DeepSeek-V3', 'Qwen/Qwen3-235B']).toContain(served);
    expect(((await responses.json()) as { model: string }).model).toBe(served);
    const messages = await postJson(`${gw.baseURL}/messages`, { model: 'auto-tools-test', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, auth);
    expect(messages.status).toBe(200);
    expect(messages.headers.get('x-pool-provider')).toBe('CloudflareAI');
    const counted = await postJson(`${gw.baseURL}/messages/count_tokens`, { model: 'auto', messages: [{ role: 'user', content: 'hi' }] }, auth);
    expect(counted.status).toBe(200);
  });

  it('auto-image answers an image, and moves to the next image model when the first fails', async () => {
    const res = await postJson(`${gw.baseURL}/images/generations`, { model: 'auto-image', prompt: 'a cat', response_format: 'b64_json' }, auth);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Array<{ b64_json: string }> };
    expect(body.data[0]!.b64_json.length).toBeGreaterThan(10);

    emu.reset();
    emu.addFault({ provider: 'pollinations', mode: 'status', status: 500, path: 'image' });
    const since = Date.now();
    const moved = await postJson(`${gw.baseURL}/images/generations`, { model: 'auto-image-test', prompt: 'a cat', response_format: 'b64_json' }, auth);
    expect(moved.status).toBe(200);
    const logged = await lastLogged('flux-schnell', since);
    expect(logged).toMatchObject({ model: 'flux-schnell', alias: 'auto-image-test', status: 200 });
    expect(logged.attempts.some((a) => a.provider === 'PollinationsAI' && a.upstream_model === 'gptimage' && a.status === 500)).toBe(true);
  });

  it('a chat request for an image auto model, a provider none of its models has, or needs none can honour is a 400', async () => {
    const wrong = await chat({ model: 'auto-image' });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('model_not_supported');
    // None of auto-tools-test's models is served by HuggingFace.
    const forced = await chat({ model: 'auto-tools-test', provider: 'HuggingFace' });
    expect(forced.status).toBe(400);
    expect(((await forced.json()) as { error: { code: string } }).error.code).toBe('provider_model_mismatch');
    const tools = await chat({ model: 'auto-tools-test', provider: 'CloudflareAI', tools: WEATHER });
    expect(tools.status).toBe(400);
    expect(((await tools.json()) as { error: { code: string } }).error.code).toBe('model_not_supported');
  });

  it('the console replaces the list (checked, 400 naming what is wrong) and resets it', async () => {
    const bad = await fetch(`${gw.url}/api/auto-models`, {
      method: 'PUT',
      headers: { ...h, 'content-type': 'application/json' },
      body: JSON.stringify({
        models: [
          { id: 'auto-x', models: ['no-such-model'] },
          { id: 'deepseek-v3', models: ['qwen-3-235b'] },
        ],
      }),
    });
    expect(bad.status).toBe(400);
    const message = ((await bad.json()) as { error: { message: string } }).error.message;
    expect(message).toContain('no-such-model');
    expect(message).toContain('a catalog model has this id');

    const put = await fetch(`${gw.url}/api/auto-models`, {
      method: 'PUT',
      headers: { ...h, 'content-type': 'application/json' },
      body: JSON.stringify({ models: [{ id: 'auto', kind: 'chat', models: ['qwen-3-235b'], others: false }] }),
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as AutoModelList).source).toBe('console');
    const res = await chat({ model: 'auto' });
    expect(res.headers.get('x-pool-upstream-model')).toBe('Qwen/Qwen3-235B');
    const gone = await chat({ model: 'auto-coder' });
    expect(gone.status).toBe(404);

    const reset = await fetch(`${gw.url}/api/auto-models`, { method: 'DELETE', headers: h });
    expect(((await reset.json()) as AutoModelList).source).toBe('config');
    expect((await chat({ model: 'auto-coder' })).status).toBe(200);
  });
});
