import { existsSync, readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { createGunzip } from 'node:zlib';
import { answerText } from './answers.ts';
import { startEmulator } from './emulator.ts';
import type { Emulator, ProviderId } from './emulator.ts';
import { CATALOG_CANDIDATES } from './model-lists.ts';
import { parseSse } from './sse-parse.ts';

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  estimated_cost?: number;
}
interface ToolCallWire {
  index?: number;
  id?: string;
  type?: string;
  function: { name?: string; arguments: string };
}
interface Completion {
  model: string;
  object: string;
  choices: {
    message: { role: string; content: string | null; reasoning_content?: string; tool_calls?: ToolCallWire[] };
    finish_reason: string;
  }[];
  usage: Usage;
  prompt?: unknown;
  warnings?: unknown;
}
interface Chunk {
  object: string;
  choices: {
    delta: { role?: string; content?: string | null; reasoning_content?: string; tool_calls?: ToolCallWire[] };
    finish_reason: string | null;
  }[];
  usage?: Usage | null;
}
interface CloudflareAnswer {
  result: { response: string; usage: Usage } | null;
  success: boolean;
  errors: { code: number; message: string }[];
}

const ACCOUNT = 'acc123';
const MODELS: Record<ProviderId, string> = {
  pollinations: 'openai',
  deepinfra: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
  together: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
  huggingface: 'meta-llama/Llama-3.3-70B-Instruct',
  cloudflare: '@cf/meta/llama-3.3-70b-instruct-fp8-fast',
  custom: 'llama3.2',
};
const OPENAI_PROVIDERS = ['pollinations', 'deepinfra', 'together', 'huggingface', 'custom'] as const;

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => emu.reset());

// Fixed lists keep these tests independent of the editable catalog; one test below checks the defaults.
const EXTRA_MODELS: Partial<Record<ProviderId, string[]>> = {
  deepinfra: ['deepseek-ai/DeepSeek-R1', 'deepseek-ai/DeepSeek-V3'],
  together: ['black-forest-labs/FLUX.1-schnell'],
  huggingface: ['deepseek-ai/DeepSeek-R1'],
};
beforeEach(() => {
  for (const provider of Object.keys(MODELS) as ProviderId[]) emu.setModels(provider, [MODELS[provider], ...(EXTRA_MODELS[provider] ?? [])]);
});

function chatUrl(provider: ProviderId, model = MODELS[provider]): string {
  const base = emu.baseUrl(provider);
  if (provider === 'cloudflare') return `${base}/accounts/${ACCOUNT}/ai/run/${model}`;
  return provider === 'pollinations' || provider === 'huggingface' ? `${base}/v1/chat/completions` : `${base}/chat/completions`;
}

function modelsUrl(provider: ProviderId): string {
  const base = emu.baseUrl(provider);
  if (provider === 'cloudflare') return `${base}/accounts/${ACCOUNT}/ai/models/search`;
  return provider === 'pollinations' || provider === 'huggingface' ? `${base}/v1/models` : `${base}/models`;
}

interface ChatOptions {
  key?: string | null;
  model?: string;
  signal?: AbortSignal;
}

function chat(provider: ProviderId, body: Record<string, unknown>, opts: ChatOptions = {}): Promise<Response> {
  const key = opts.key === undefined ? 'good-key' : opts.key;
  const model = opts.model ?? MODELS[provider];
  const payload = provider === 'cloudflare' ? body : { model, ...body };
  return fetch(chatUrl(provider, model), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(payload),
    signal: opts.signal,
  });
}

const hello = (text = 'hi there'): Record<string, unknown> => ({ messages: [{ role: 'user', content: text }] });

async function streamOf(res: Response): Promise<{ chunks: Chunk[]; done: boolean; raw: string }> {
  const raw = await res.text();
  const events = parseSse(raw).map((e) => e.data);
  const done = events.at(-1) === '[DONE]';
  const chunks = events.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Chunk);
  return { chunks, done, raw };
}

function contentOf(chunks: Chunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};
describe('OpenAI-compatible providers: happy path', () => {
  it.each(OPENAI_PROVIDERS)('%s answers non-stream with content naming itself and usage', async (provider) => {
    const res = await chat(provider, hello());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Completion;
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe(MODELS[provider]);
    expect(body.choices[0].message).toEqual({
      role: 'assistant',
      content: `Hello from ${provider} (${MODELS[provider]}). You said: hi there`,
    });
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('adds the provider-specific extras to non-stream answers', async () => {
    const deepinfra = (await (await chat('deepinfra', hello())).json()) as Completion;
    expect(deepinfra.usage.estimated_cost).toBeGreaterThan(0);
    const together = (await (await chat('together', hello())).json()) as Completion;
    expect(together.prompt).toEqual([]);
    expect(together.warnings).toEqual([]);
    const custom = (await (await chat('custom', hello())).json()) as Completion;
    expect(custom.usage.estimated_cost).toBeUndefined();
    expect(custom.prompt).toBeUndefined();
  });

  it.each(OPENAI_PROVIDERS)('%s streams ~5 content chunks, a finish chunk and [DONE]', async (provider) => {
    const res = await chat(provider, { ...hello(), stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const { chunks, done } = await streamOf(res);
    expect(done).toBe(true);
    const contentChunks = chunks.filter((c) => typeof c.choices[0]?.delta.content === 'string');
    expect(contentChunks).toHaveLength(5);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(contentOf(chunks)).toBe(`Hello from ${provider} (${MODELS[provider]}). You said: hi there`);
    const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finishes.map((c) => c.choices[0].finish_reason)).toEqual(['stop']);
  });

  it('puts stream usage where each provider documents it', async () => {
    const pollinations = await streamOf(await chat('pollinations', { ...hello(), stream: true, stream_options: { include_usage: true } }));
    expect(pollinations.chunks.some((c) => c.usage)).toBe(false);

    const deepinfra = await streamOf(await chat('deepinfra', { ...hello(), stream: true }));
    const diLast = deepinfra.chunks.at(-1);
    expect(diLast?.choices[0].finish_reason).toBe('stop');
    expect(diLast?.usage?.estimated_cost).toBeGreaterThan(0);

    const together = await streamOf(await chat('together', { ...hello(), stream: true }));
    expect(together.chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
    expect(together.chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);

    const hfPlain = await streamOf(await chat('huggingface', { ...hello(), stream: true }));
    expect(hfPlain.chunks.some((c) => c.usage)).toBe(false);
    const hfUsage = await streamOf(await chat('huggingface', { ...hello(), stream: true, stream_options: { include_usage: true } }));
    const usageChunk = hfUsage.chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('lists models in each provider shape', async () => {
    const auth = { authorization: 'Bearer good-key' };
    const pollinations = (await (await fetch(modelsUrl('pollinations'))).json()) as { object: string; data: { id: string }[] };
    expect(pollinations.object).toBe('list');
    expect(pollinations.data).toEqual([{ id: 'openai', object: 'model', created: expect.any(Number) }]);

    const together = (await (await fetch(modelsUrl('together'), { headers: auth })).json()) as { id: string; type: string }[];
    expect(Array.isArray(together)).toBe(true);
    expect(together.find((m) => m.id === 'black-forest-labs/FLUX.1-schnell')?.type).toBe('image');
    expect(together.find((m) => m.id === MODELS.together)?.type).toBe('chat');

    const deepinfra = (await (await fetch(modelsUrl('deepinfra'), { headers: auth })).json()) as { data: { id: string }[] };
    expect(deepinfra.data.map((m) => m.id)).toContain('deepseek-ai/DeepSeek-R1');

    const cloudflare = (await (await fetch(`${modelsUrl('cloudflare')}?per_page=1000`, { headers: auth })).json()) as {
      result: { name: string; task: { name: string } }[];
      success: boolean;
    };
    expect(cloudflare.success).toBe(true);
    expect(cloudflare.result.find((m) => m.name === MODELS.cloudflare)?.task.name).toBe('Text Generation');

    const custom = (await (await fetch(modelsUrl('custom'))).json()) as { data: { id: string }[] };
    expect(custom.data.map((m) => m.id)).toEqual(['llama3.2']);
  });

  it('defaults to every upstream id in the catalog plus the current Pollinations and custom names', async () => {
    emu.reset();
    const catalogFile = CATALOG_CANDIDATES.find((p) => existsSync(p));
    expect(catalogFile).toBeDefined();
    const catalog = JSON.parse(readFileSync(catalogFile ?? '', 'utf8')) as { models: { routes: { provider: string; upstream_model: string }[] }[] };
    const upstreamIds = (name: string): string[] => catalog.models.flatMap((m) => m.routes.filter((r) => r.provider === name).map((r) => r.upstream_model));
    expect(upstreamIds('Together').length).toBeGreaterThan(0);

    const together = (await (await fetch(modelsUrl('together'), { headers: { authorization: 'Bearer k' } })).json()) as { id: string }[];
    expect(together.map((m) => m.id)).toEqual(expect.arrayContaining(upstreamIds('Together')));
    const cloudflare = (await (await fetch(modelsUrl('cloudflare'), { headers: { authorization: 'Bearer k' } })).json()) as { result: { name: string }[] };
    expect(cloudflare.result.map((m) => m.name)).toEqual(expect.arrayContaining(upstreamIds('CloudflareAI')));
    const pollinations = (await (await fetch(modelsUrl('pollinations'))).json()) as { data: { id: string }[] };
    expect(pollinations.data.map((m) => m.id)).toEqual(expect.arrayContaining([...upstreamIds('PollinationsAI'), 'openai-fast', 'qwen-3-coder', 'gptimage']));
    const custom = (await (await fetch(modelsUrl('custom'))).json()) as { data: { id: string }[] };
    expect(custom.data.map((m) => m.id)).toEqual(expect.arrayContaining(['llama3.2', 'qwen2.5:7b', 'gpt-4o-mini']));
  });

  it('setModels changes the list and unknown models are rejected in the provider shape', async () => {
    emu.setModels('deepinfra', ['only/one']);
    const list = (await (await fetch(modelsUrl('deepinfra'), { headers: { authorization: 'Bearer k' } })).json()) as {
      data: { id: string }[];
    };
    expect(list.data.map((m) => m.id)).toEqual(['only/one']);
    const missing = await chat('deepinfra', hello());
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain(MODELS.deepinfra);
    expect((await chat('deepinfra', hello(), { model: 'only/one' })).status).toBe(200);

    const cf = await chat('cloudflare', hello(), { model: '@cf/meta/does-not-exist' });
    expect(cf.status).toBe(400);
    const cfBody = (await cf.json()) as CloudflareAnswer;
    expect(cfBody).toMatchObject({ success: false, result: null });
    expect(cfBody.errors[0].code).toBe(5007);
  });

  it('accepts a HuggingFace model pinned to an inference provider', async () => {
    const res = await chat('huggingface', hello(), { model: 'deepseek-ai/DeepSeek-R1:novita' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Completion).model).toBe('deepseek-ai/DeepSeek-R1:novita');
  });
});

describe('Cloudflare native format', () => {
  it('answers non-stream in the Workers AI envelope', async () => {
    const res = await chat('cloudflare', { ...hello('ping'), max_tokens: 100, temperature: 0.2 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as CloudflareAnswer & { messages: unknown[] };
    expect(body.success).toBe(true);
    expect(body.errors).toEqual([]);
    expect(body.messages).toEqual([]);
    expect(body.result?.response).toBe(`Hello from cloudflare (${MODELS.cloudflare}). You said: ping`);
    expect(body.result?.usage.prompt_tokens).toBeGreaterThan(0);
    expect(body.result?.usage.completion_tokens).toBeGreaterThan(0);
  });

  it('streams response pieces, a usage line with an empty response, then [DONE]', async () => {
    const res = await chat('cloudflare', { ...hello('ping'), stream: true });
    const events = parseSse(await res.text()).map((e) => e.data);
    expect(events.at(-1)).toBe('[DONE]');
    const lines = events.slice(0, -1).map((d) => JSON.parse(d) as { response: string; usage?: Usage });
    const last = lines.at(-1);
    expect(last?.response).toBe('');
    expect(last?.usage?.total_tokens).toBeGreaterThan(0);
    expect(lines.slice(0, -1)).toHaveLength(5);
    expect(lines.map((l) => l.response).join('')).toBe(`Hello from cloudflare (${MODELS.cloudflare}). You said: ping`);
  });

  it('records the model from the path and the account id', async () => {
    await chat('cloudflare', hello());
    const [recorded] = emu.requests('cloudflare');
    expect(recorded.path).toBe(`/cloudflare/client/v4/accounts/${ACCOUNT}/ai/run/${MODELS.cloudflare}`);
    expect(recorded.body).toEqual(hello());
  });

  const nativeWeather = [{ name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];

  it('calls a native tool in a whole answer: arguments an object, no id, response null', async () => {
    const res = await chat('cloudflare', { ...hello('What is the weather in Paris?'), tools: nativeWeather });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { response: unknown; tool_calls: unknown[] } };
    expect(body.result.response).toBeNull();
    expect(body.result.tool_calls).toEqual([{ name: 'get_weather', arguments: { city: 'Paris' } }]);
  });

  it('answers in text after a tool result, and streams text only even when tools are offered', async () => {
    const after = await chat('cloudflare', {
      messages: [
        { role: 'user', content: 'What is the weather in Paris?' },
        { role: 'assistant', content: '[{"name":"get_weather","arguments":{"city":"Paris"}}]' },
        { role: 'tool', content: '{"temp":21}' },
      ],
      tools: nativeWeather,
    });
    expect(((await after.json()) as { result: { response: string; tool_calls?: unknown } }).result).not.toHaveProperty('tool_calls');
    const streamed = await chat('cloudflare', { ...hello('What is the weather in Paris?'), tools: nativeWeather, stream: true });
    const lines = parseSse(await streamed.text()).map((e) => e.data);
    expect(lines.some((d) => d.includes('tool_calls'))).toBe(false);
  });

  it('JSON mode answers with an object as response', async () => {
    const res = await chat('cloudflare', { ...hello('ping'), response_format: { type: 'json_object' } });
    expect(((await res.json()) as { result: { response: unknown } }).result.response).toEqual({ answer: expect.stringContaining('ping') });
  });

  it('rejects what the schema does not take: stop, tool_choice, OpenAI-shaped tools', async () => {
    const refused = async (body: Record<string, unknown>) => {
      const res = await chat('cloudflare', { ...hello(), ...body });
      expect(res.status).toBe(400);
      return ((await res.json()) as CloudflareAnswer).errors[0]!.message;
    };
    expect(await refused({ stop: ['x'] })).toContain("'stop'");
    expect(await refused({ tools: nativeWeather, tool_choice: 'required' })).toContain("'tool_choice'");
    expect(await refused({ tools: [{ type: 'function', function: nativeWeather[0] }] })).toContain('/tools');
  });
});

describe('sampling fields beyond OpenAI’s', () => {
  const extras = { top_k: 40, min_p: 0.05, repetition_penalty: 1.1 };
  const errorText = async (res: Response) => JSON.stringify(await res.json());

  it.each([
    ['custom', 'Unrecognized request argument supplied: top_k'],
    ['huggingface', 'unknown field `top_k`'],
    ['pollinations', "Unrecognized key(s) in object: 'top_k'"],
    ['cloudflare', "'min_p' not in schema"],
  ] as const)('the strict %s refuses one it does not take with 400', async (provider, words) => {
    const res = await chat(provider, { ...hello(), ...extras });
    expect(res.status).toBe(400);
    expect(await errorText(res)).toContain(words);
  });

  it.each(['deepinfra', 'together'] as const)('%s takes them', async (provider) => {
    expect((await chat(provider, { ...hello(), ...extras, typical_p: 0.9 })).status).toBe(200);
  });

  it('Cloudflare takes top_k and repetition_penalty', async () => {
    expect((await chat('cloudflare', { ...hello(), top_k: 40, repetition_penalty: 1.1 })).status).toBe(200);
  });
});

describe('auth', () => {
  it.each([
    ['deepinfra', { error: { message: 'Not authenticated', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }],
    ['huggingface', { error: 'Invalid credentials in Authorization header' }],
    ['cloudflare', { success: false, errors: [{ code: 10000, message: 'Authentication error' }], result: null }],
  ] as const)('%s rejects a missing key with 401 in its own shape', async (provider, shape) => {
    const res = await chat(provider, hello(), { key: null });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(shape);
  });

  it('rejects a missing key on Together as well', async () => {
    expect((await chat('together', hello(), { key: null })).status).toBe(401);
  });

  it('accepts anonymous requests where the key is optional', async () => {
    expect((await chat('pollinations', hello(), { key: null })).status).toBe(200);
    expect((await chat('custom', hello(), { key: null })).status).toBe(200);
  });

  it('treats bad* keys as invalid and broke* keys as out of balance', async () => {
    const bad = await chat('pollinations', hello(), { key: 'bad-123' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ status: 401, success: false, error: { code: 'UNAUTHORIZED' } });
    const broke = await chat('deepinfra', hello(), { key: 'broke-1' });
    expect(broke.status).toBe(402);
    expect(((await broke.json()) as { error: { message: string } }).error.message).toBe('You need positive balance');
  });

  it('records requests to paths a provider does not serve and answers 404 in its shape', async () => {
    const res = await fetch(`${emu.baseUrl('deepinfra')}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: '{}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('Unknown endpoint POST /deepinfra/v1/openai/v1/chat/completions');
    expect(emu.requests('deepinfra').map((r) => r.path)).toEqual(['/deepinfra/v1/openai/v1/chat/completions']);
  });

  it('records which key was used', async () => {
    await chat('together', hello(), { key: 'key-two' });
    expect(emu.requests('together')[0].headers.authorization).toBe('Bearer key-two');
  });
});

describe('answer features', () => {
  it('passes request parameters through unchanged to the recorder', async () => {
    const body = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
            { type: 'text', text: 'this?' },
          ],
        },
      ],
      temperature: 0.3,
      stop: ['\n\n'],
      seed: 42,
      response_format: { type: 'json_object' },
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      tool_choice: 'auto',
    };
    const res = await chat('custom', body);
    const answer = (await res.json()) as Completion;
    expect(answer.choices[0].message.content).toBe('Hello from custom (llama3.2). You said: what is this?');
    expect(emu.requests('custom')[0].body).toEqual({ model: 'llama3.2', ...body });
  });

  it('adds reasoning_content for reasoning models, before content in streams', async () => {
    const model = 'deepseek-ai/DeepSeek-R1';
    const res = await chat('deepinfra', hello(), { model });
    expect(((await res.json()) as Completion).choices[0].message.reasoning_content).toBe('Let me think about this.');

    const { chunks } = await streamOf(await chat('deepinfra', { ...hello(), stream: true }, { model }));
    const kinds = chunks
      .map((c) => c.choices[0]?.delta)
      .map((d) => (d?.reasoning_content ? 'r' : d?.content ? 'c' : '-'))
      .join('');
    expect(kinds).toMatch(/^r+c+-$/);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe('Let me think about this.');
  });

  const weatherTools = [
    { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
    { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
  ];

  it('answers with a tool call when the user asks about weather', async () => {
    const res = await chat('together', { ...hello('What is the weather in Paris?'), tools: weatherTools });
    const choice = ((await res.json()) as Completion).choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls?.[0];
    expect(call?.id).toMatch(/^call_[0-9a-f]+$/);
    expect(call?.type).toBe('function');
    expect(call?.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
  });

  it('honours a named tool_choice and streams arguments across deltas', async () => {
    const res = await chat('huggingface', {
      ...hello('hello'),
      tools: weatherTools,
      tool_choice: { type: 'function', function: { name: 'get_time' } },
      stream: true,
    });
    const { chunks } = await streamOf(res);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_time', arguments: '' } });
    expect(calls[0].id).toMatch(/^call_/);
    expect(calls.map((c) => c.function.arguments).join('')).toBe('{"city":"Paris"}');
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('answers in text when tools are present but not called for', async () => {
    const res = await chat('custom', { ...hello('hello'), tools: weatherTools });
    const choice = ((await res.json()) as Completion).choices[0];
    expect(choice.finish_reason).toBe('stop');
    expect(choice.message.tool_calls).toBeUndefined();
  });

  it('truncates to max_tokens words with finish_reason length', async () => {
    const res = await chat('custom', { ...hello(), max_tokens: 3 });
    const choice = ((await res.json()) as Completion).choices[0];
    expect(choice.message.content).toBe('Hello from custom');
    expect(choice.finish_reason).toBe('length');
  });
});

describe('faults', () => {
  it('status: answers in the provider error shape with Retry-After, only `times` often', async () => {
    emu.addFault({ provider: 'together', mode: 'status', status: 429, retryAfter: 7, message: 'slow down', times: 1 });
    const limited = await chat('together', hello());
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({
      error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' },
    });
    expect((await chat('together', hello())).status).toBe(200);
  });

  it('status: Cloudflare daily allocation and Pollinations 500 use their own shapes', async () => {
    emu.addFault({ provider: 'cloudflare', mode: 'status', status: 429 });
    emu.addFault({ provider: 'pollinations', mode: 'status', status: 500, message: 'boom' });
    const cf = (await (await chat('cloudflare', hello())).json()) as CloudflareAnswer;
    expect(cf.errors[0].code).toBe(3036);
    const pol = await chat('pollinations', hello());
    expect(pol.status).toBe(500);
    expect(await pol.json()).toEqual({ status: 500, success: false, error: { code: 'INTERNAL_ERROR', message: 'boom' } });
  });

  it('matches faults by model, key and endpoint kind', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 503, model: 'deepseek-ai/DeepSeek-V3' });
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 401, key: 'key-b' });
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, path: 'models' });
    expect((await chat('deepinfra', hello(), { model: 'deepseek-ai/DeepSeek-V3' })).status).toBe(503);
    expect((await chat('deepinfra', hello(), { key: 'key-b' })).status).toBe(401);
    expect((await chat('deepinfra', hello(), { key: 'key-a' })).status).toBe(200);
    expect((await fetch(modelsUrl('deepinfra'), { headers: { authorization: 'Bearer key-a' } })).status).toBe(500);
  });

  it('reset: the connection dies without a response', async () => {
    emu.addFault({ provider: 'custom', mode: 'reset', times: 1 });
    await expect(chat('custom', hello())).rejects.toThrow();
    expect((await chat('custom', hello())).status).toBe(200);
  });

  it('midStreamCut: sends N chunks then cuts the connection without [DONE]', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2 });
    const res = await chat('deepinfra', { ...hello(), stream: true });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = '';
    const read = async (): Promise<void> => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += decoder.decode(value, { stream: true });
      }
    };
    await expect(read()).rejects.toThrow();
    const events = parseSse(received).map((e) => JSON.parse(e.data) as Chunk);
    expect(events).toHaveLength(2);
    expect(contentOf(events).length).toBeGreaterThan(0);
    expect(received).not.toContain('[DONE]');
  });

  it('malformedEvents: N events that are not JSON after some chunks, then the rest of a good stream', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'malformedEvents', afterChunks: 1, count: 2, times: 1 });
    const res = await chat('deepinfra', { ...hello(), stream: true });
    const events = parseSse(await res.text()).map((e) => e.data);
    const bad = events.flatMap((data, i) => (data !== '[DONE]' && !isJson(data) ? [i] : []));
    expect(bad).toEqual([1, 2]);
    expect(events.at(-1)).toBe('[DONE]');
    // Used up: the next stream is clean.
    const next = parseSse(await (await chat('deepinfra', { ...hello(), stream: true })).text()).map((e) => e.data);
    expect(next.every((data) => data === '[DONE]' || isJson(data))).toBe(true);
  });

  it('noDone: the whole answer and its finish chunk, then the body ends without [DONE]', async () => {
    emu.addFault({ provider: 'together', mode: 'noDone', times: 1 });
    const { chunks, done } = await streamOf(await chat('together', { ...hello(), stream: true }));
    expect(done).toBe(false);
    expect(contentOf(chunks)).toBe(answerText('together', MODELS.together, 'hi there'));
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('midStreamStall: N chunks, then silence on an open connection until the client gives up', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamStall', afterChunks: 1, times: 1 });
    const res = await chat('deepinfra', { ...hello(), stream: true });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"content"');
    const silent = await Promise.race([reader.read().then(() => 'data'), new Promise((r) => setTimeout(() => r('silent'), 200))]);
    expect(silent).toBe('silent');
    await reader.cancel();
  });

  it('midStreamCut on a non-stream request sends half a body', async () => {
    emu.addFault({ provider: 'custom', mode: 'midStreamCut', times: 1 });
    const res = await chat('custom', hello());
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('hang: never answers until the client aborts, and the server keeps working', async () => {
    emu.addFault({ provider: 'huggingface', mode: 'hang', times: 1 });
    const started = Date.now();
    await expect(chat('huggingface', hello(), { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect((await chat('huggingface', hello())).status).toBe(200);
  });

  it('html200, garbage200 and empty200 return 200s that are not answers', async () => {
    emu.addFault({ provider: 'custom', mode: 'html200', times: 1 });
    emu.addFault({ provider: 'custom', mode: 'garbage200', times: 2 });
    emu.addFault({ provider: 'custom', mode: 'empty200', times: 2 });

    const html = await chat('custom', hello());
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toBe('<!DOCTYPE html><html><body>Just a moment...</body></html>');

    const garbage = await chat('custom', hello());
    expect([garbage.status, await garbage.text()]).toEqual([200, '{"choices": [']);
    const garbageStream = await chat('custom', { ...hello(), stream: true });
    expect(parseSse(await garbageStream.text()).map((e) => e.data)).toEqual(['not json', 'not json', 'not json']);

    const empty = await chat('custom', hello());
    expect([empty.status, await empty.text()]).toEqual([200, '']);
    const emptyStream = await chat('custom', { ...hello(), stream: true });
    expect(await emptyStream.text()).toBe('data: [DONE]\n\n');
  });

  it('slowFirstByte: delays the headers, then answers normally', async () => {
    emu.addFault({ provider: 'pollinations', mode: 'slowFirstByte', delayMs: 200, times: 1 });
    const started = Date.now();
    const res = await chat('pollinations', hello());
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(((await res.json()) as Completion).choices[0].message.content).toContain('Hello from pollinations');
  });
});

describe('stream framing', () => {
  async function rawStream(provider: ProviderId): Promise<string> {
    return (await chat(provider, { ...hello(), stream: true })).text();
  }

  it('crlf + noSpace + comments produce exactly those bytes', async () => {
    emu.setFraming('custom', { crlf: true, noSpace: true, comments: true });
    const raw = await rawStream('custom');
    const head = ': keep-alive\r\n\r\n: keep-alive\r\nevent:message\r\nid:1\r\ndata:{"id":"chatcmpl-';
    expect(raw.slice(0, head.length)).toBe(head);
    // 5 content events, the finish event, then [DONE] as event 7.
    const tail = ': keep-alive\r\nevent:message\r\nid:7\r\ndata:[DONE]\r\n\r\n';
    expect(raw.slice(-tail.length)).toBe(tail);
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(
      contentOf(
        parseSse(raw)
          .filter((e) => e.data !== '[DONE]')
          .map((e) => JSON.parse(e.data) as Chunk),
      ),
    ).toBe('Hello from custom (llama3.2). You said: hi there');
    expect(parseSse(raw)[0]).toMatchObject({ event: 'message', id: '1' });
  });

  it('multiline splits each JSON payload over two data lines that rejoin into valid JSON', async () => {
    emu.setFraming('cloudflare', { multiline: true });
    const raw = await rawStream('cloudflare');
    expect(raw).toMatch(/^data: \{\ndata: "response":"Hello from /);
    expect(raw).toContain('data: {"response":"",\ndata: "usage":{');
    const payloads = parseSse(raw).map((e) => e.data);
    expect(payloads.at(-1)).toBe('[DONE]');
    expect(payloads.slice(0, -1).every((p) => p.includes('\n') && typeof JSON.parse(p) === 'object')).toBe(true);
  });

  it('splitBytes writes the stream as fixed-size HTTP chunks', async () => {
    emu.setFraming('deepinfra', { splitBytes: 7 });
    const expected = await (async () => {
      emu.setFraming('deepinfra', { splitBytes: 0 });
      const text = await rawStream('deepinfra');
      emu.setFraming('deepinfra', { splitBytes: 7 });
      return text;
    })();
    const { chunkSizes, body } = await rawHttpChunks(chatUrl('deepinfra'), {
      model: MODELS.deepinfra,
      ...hello(),
      stream: true,
    });
    expect(chunkSizes.length).toBeGreaterThan(50);
    expect(chunkSizes.slice(0, -1).every((n) => n === 7)).toBe(true);
    expect(chunkSizes.at(-1)).toBeLessThanOrEqual(7);
    // Same events as an unsplit stream (ids and timestamps differ per answer).
    const normalize = (s: string): string => s.replace(/chatcmpl-[0-9a-f]+/g, 'ID').replace(/"created":\d+/g, 'T');
    expect(normalize(body)).toBe(normalize(expected));
  });
});

/** Reads a response over a raw socket to see the HTTP chunk boundaries the server wrote. */
function rawHttpChunks(url: string, body: unknown): Promise<{ chunkSizes: number[]; body: string }> {
  const { hostname, port, pathname } = new URL(url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const parts: Buffer[] = [];
    socket.on('data', (d) => parts.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const raw = Buffer.concat(parts);
      let offset = raw.indexOf('\r\n\r\n') + 4;
      const chunkSizes: number[] = [];
      const bodyParts: Buffer[] = [];
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', offset);
        const size = parseInt(raw.subarray(offset, lineEnd).toString(), 16);
        if (size === 0) break;
        chunkSizes.push(size);
        bodyParts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
        offset = lineEnd + 2 + size + 2;
      }
      resolve({ chunkSizes, body: Buffer.concat(bodyParts).toString('utf8') });
    });
    socket.write(
      `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
    );
  });
}

describe('control API over HTTP', () => {
  async function control(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${emu.url}/__emulator${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  it('adds and clears faults', async () => {
    expect((await control('POST', '/faults', { provider: 'custom', mode: 'status', status: 503 })).status).toBe(200);
    expect((await chat('custom', hello())).status).toBe(503);
    expect((await control('DELETE', '/faults')).status).toBe(200);
    expect((await chat('custom', hello())).status).toBe(200);
  });

  it('rejects invalid faults', async () => {
    const res = await control('POST', '/faults', { provider: 'openai', mode: 'status', status: 500 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain('openai');
  });

  it('prefill: continue, reject, or ignore a trailing assistant message, per provider', async () => {
    const prefilled = {
      messages: [
        { role: 'user', content: 'hi there' },
        { role: 'assistant', content: 'Hello from' },
      ],
      stream: true,
    };
    const whole = answerText('custom', MODELS.custom, 'hi there');
    expect(contentOf((await streamOf(await chat('custom', prefilled))).chunks)).toBe(whole);
    expect((await control('POST', '/prefill', { provider: 'custom', mode: 'continue' })).status).toBe(200);
    expect(contentOf((await streamOf(await chat('custom', prefilled))).chunks)).toBe(whole.slice('Hello from'.length));
    await control('POST', '/prefill', { provider: 'custom', mode: 'reject' });
    expect((await chat('custom', prefilled)).status).toBe(400);
    // Only a trailing assistant message is refused.
    expect((await chat('custom', hello())).status).toBe(200);
    expect((await control('POST', '/prefill', { provider: 'custom', mode: 'sometimes' })).status).toBe(400);
    await control('POST', '/reset');
    expect((await chat('custom', prefilled)).status).toBe(200);
  });

  it('makes a strict upstream take the sampling fields it is told to, as a vLLM host does, until a reset', async () => {
    const sampled = { ...hello(), top_k: 40, min_p: 0.05 };
    expect((await chat('custom', sampled)).status).toBe(400);
    expect((await control('POST', '/sampling', { provider: 'custom', accepts: ['top_k', 'min_p'] })).status).toBe(200);
    expect((await chat('custom', sampled)).status).toBe(200);
    const stray = await chat('custom', { ...sampled, repetition_penalty: 1.1 });
    expect([stray.status, JSON.stringify(await stray.json())]).toEqual([400, expect.stringContaining('repetition_penalty')]);
    expect((await control('POST', '/sampling', { provider: 'custom', accepts: 'top_k' })).status).toBe(400);
    await control('POST', '/reset');
    expect((await chat('custom', sampled)).status).toBe(400);
  });

  it('sets models, framing and pacing, lists requests and resets', async () => {
    await control('POST', '/models', { provider: 'custom', ids: ['mine'] });
    expect((await chat('custom', hello())).status).toBe(404);
    expect((await chat('custom', hello(), { model: 'mine' })).status).toBe(200);

    await control('POST', '/framing', { provider: 'custom', noSpace: true });
    await control('POST', '/pacing', { chunks: 20 });
    const { chunks, raw } = await streamOf(await chat('custom', { ...hello(), stream: true }, { model: 'mine' }));
    expect(raw.startsWith('data:{')).toBe(true);
    expect(chunks.filter((c) => c.choices[0]?.delta.content)).toHaveLength(20);

    const listed = (await (await control('GET', '/requests?provider=custom')).json()) as { path: string; body: { model: string } }[];
    expect(listed.map((r) => r.body.model)).toEqual(['llama3.2', 'mine', 'mine']);
    expect(listed[0].path).toBe('/custom/v1/chat/completions');
    expect(await (await control('GET', '/requests?provider=together')).json()).toEqual([]);

    await control('POST', '/reset');
    expect(await (await control('GET', '/requests')).json()).toEqual([]);
    const after = await streamOf(await chat('custom', { ...hello(), stream: true }));
    expect(after.raw.startsWith('data: {')).toBe(true);
    expect(after.chunks.filter((c) => c.choices[0]?.delta.content)).toHaveLength(5);
  });
});

describe('lifecycle', () => {
  it('keeps only the latest recordLimit requests, so that a long benchmark does not grow its heap', async () => {
    const own = await startEmulator({ recordLimit: 3 });
    try {
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`${own.baseUrl('custom')}/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({ model: 'llama3.2', ...hello(`n${i}`) }),
        });
        expect(res.status).toBe(200);
      }
      expect(own.requests('custom').map((r) => (r.body as { messages: { content: string }[] }).messages[0]!.content)).toEqual(['n5', 'n6', 'n7']);
    } finally {
      await own.close();
    }
  });

  it('close() returns promptly with a hung request open', async () => {
    const own = await startEmulator();
    own.addFault({ provider: 'custom', mode: 'hang' });
    const pending = fetch(`${own.baseUrl('custom')}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3.2', ...hello() }),
    });
    const settled = pending.then(
      () => 'answered',
      () => 'failed',
    );
    await waitFor(() => own.requests('custom').length === 1);
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await settled).toBe('failed');
  });

  it('stops a slow stream when the client aborts, and close() does not wait for its timers', async () => {
    const own = await startEmulator({ chunkDelayMs: 1000, chunks: 20 });
    const abort = new AbortController();
    const res = await fetch(`${own.baseUrl('custom')}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3.2', ...hello(), stream: true }),
      signal: abort.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"role":"assistant"');
    abort.abort();
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('paces chunks with chunkDelayMs', async () => {
    const own = await startEmulator({ chunkDelayMs: 30, chunks: 3 });
    try {
      const started = Date.now();
      const res = await fetch(`${own.baseUrl('custom')}/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'llama3.2', ...hello(), stream: true }),
      });
      const { chunks } = await streamOf(res);
      // 3 content events + finish + [DONE] = 4 gaps of 30 ms.
      expect(Date.now() - started).toBeGreaterThanOrEqual(110);
      expect(chunks.filter((c) => c.choices[0]?.delta.content)).toHaveLength(3);
    } finally {
      await own.close();
    }
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error('condition not met in time');
}

describe('hostile faults', () => {
  /** The raw answer (no decoding): status, headers and the first `max` bytes, then the connection is dropped. */
  function rawHead(body: Record<string, unknown>, max: number): Promise<{ headers: IncomingHttpHeaders; bytes: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request(
        chatUrl('deepinfra'),
        { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer good-key' } },
        (res) => {
          const parts: Buffer[] = [];
          let size = 0;
          const done = () => {
            res.destroy();
            resolve({ headers: res.headers, bytes: Buffer.concat(parts).subarray(0, max) });
          };
          res.on('data', (chunk: Buffer) => {
            parts.push(chunk);
            size += chunk.length;
            if (size >= max) done();
          });
          res.on('end', done);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ model: MODELS.deepinfra, ...body }));
    });
  }

  it('gzipBomb: about 1 MB on the wire whose first 16 KB alone inflate to megabytes of zeros', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'gzipBomb' });
    const { headers, bytes } = await rawHead(hello(), 16 * 1024);
    expect(headers['content-encoding']).toBe('gzip');
    expect(Number(headers['content-length'])).toBeGreaterThan(500_000);
    expect(Number(headers['content-length'])).toBeLessThan(2_000_000);
    const inflated = await gunzipSome(bytes, 8 * 1024 * 1024);
    expect(inflated.length).toBe(8 * 1024 * 1024);
    expect(inflated.every((b) => b === 0)).toBe(true);
  });

  it('hugeJson: a JSON answer without Content-Length that goes on and on', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'hugeJson' });
    const { headers, bytes } = await rawHead(hello(), 4 * 1024 * 1024);
    expect(headers['content-length']).toBeUndefined();
    expect(bytes.length).toBe(4 * 1024 * 1024);
    expect(bytes.subarray(0, 40).toString()).toMatch(/^\{"id":"chatcmpl-huge"/);
  });

  it.each(['endlessLine', 'endlessLineGzip'] as const)('%s: a data line that does not end', async (mode) => {
    emu.addFault({ provider: 'deepinfra', mode });
    const { headers, bytes } = await rawHead({ ...hello(), stream: true }, mode === 'endlessLine' ? 1024 * 1024 : 64 * 1024);
    const text = (mode === 'endlessLine' ? bytes : await gunzipSome(bytes, 1024 * 1024)).toString();
    expect(headers['content-type']).toBe('text/event-stream');
    expect(text.startsWith('data: {"choices":[{"delta":{"content":"aaa')).toBe(true);
    expect(text).not.toContain('\n');
    expect(text.length).toBeGreaterThan(512 * 1024);
  });

  it.each([
    ['commentOnly', /^(: ping\n\n)+$/],
    ['emptyChunks', /^data: \{[^\n]*"delta":\{"role":"assistant"\}[^\n]*\n\n(data: \{[^\n]*"delta":\{("content":"")?\}[^\n]*\n\n)+$/],
  ] as const)('%s: keeps the connection busy without any content', async (mode, shape) => {
    emu.addFault({ provider: 'deepinfra', mode, delayMs: 10 });
    const controller = new AbortController();
    const res = await chat('deepinfra', { ...hello(), stream: true }, { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    for (const until = Date.now() + 200; Date.now() < until;) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toMatch(shape);
    expect(text.split('\n\n').length).toBeGreaterThan(5);
  });
});

/** Inflates the first `max` bytes (at most) of a gzip stream's beginning. */
function gunzipSome(bytes: Buffer, max: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    const gunzip = createGunzip();
    const done = () => {
      gunzip.destroy();
      resolve(Buffer.concat(parts).subarray(0, max));
    };
    gunzip.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size >= max) done();
    });
    gunzip.on('error', done);
    gunzip.on('end', done);
    gunzip.end(bytes);
  });
}
