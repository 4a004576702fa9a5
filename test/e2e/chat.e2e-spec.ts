import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { REASONING_TEXT, TOOL_ARGUMENTS, estimateTokens } from '../emulators/answers.ts';
import { startEmulator, type Emulator, type ProviderId, type RecordedRequest } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

// ---- wire types (only what the assertions read) ----------------------------------------

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}
interface ToolCallWire {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}
interface Completion {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: string; content: string | null; reasoning_content?: string; tool_calls?: ToolCallWire[] };
    finish_reason: string;
  }[];
  usage: Usage | null;
}
interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: string; content?: string | null; reasoning_content?: string; tool_calls?: ToolCallWire[] };
    finish_reason: string | null;
  }[];
  usage?: Usage | null;
}
interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}
interface UpstreamBody {
  model?: string;
  messages?: unknown[];
  stream?: boolean;
  [key: string]: unknown;
}
interface CatalogModel {
  id: string;
  routes: { provider: string; upstream_model: string }[];
}

// ---- fixtures and helpers ----------------------------------------------------------------

const CATALOG = (JSON.parse(readFileSync(fileURLToPath(new URL('../../catalog/models.json', import.meta.url)), 'utf8')) as { models: CatalogModel[] }).models;

/** The upstream id catalog/models.json routes `model` to on `provider` (display name). */
function routeOf(model: string, provider: string): string {
  const route = CATALOG.find((m) => m.id.toLowerCase() === model.toLowerCase())?.routes.find((r) => r.provider === provider);
  if (!route) throw new Error(`catalog/models.json has no ${provider} route for ${model}`);
  return route.upstream_model;
}

interface ProviderCase {
  /** What the client writes in the `provider` field (case deliberately varied). */
  field: string;
  /** Display name, as in x-pool-provider and the catalog. */
  name: string;
  emu: ProviderId;
  /** The gateway model id the client sends. */
  model: string;
  /** The Authorization header the upstream must see (from emulatorEnv). */
  auth: string | undefined;
}

const PROVIDERS: ProviderCase[] = [
  { field: 'pollinationsai', name: 'PollinationsAI', emu: 'pollinations', model: 'llama-4-scout', auth: undefined },
  { field: 'deepinfra', name: 'DeepInfra', emu: 'deepinfra', model: 'llama-4-scout', auth: 'Bearer di-good-key-0001' },
  // The model id's case differs from the catalog's: the answer must echo what the client sent.
  { field: 'Together', name: 'Together', emu: 'together', model: 'Llama-4-Scout', auth: 'Bearer tg-good-key-0001' },
  { field: 'HUGGINGFACE', name: 'HuggingFace', emu: 'huggingface', model: 'llama-3.3-70b', auth: 'Bearer hf_good_key_0001' },
  { field: 'CLOUDFLAREAI', name: 'CloudflareAI', emu: 'cloudflare', model: 'llama-4-scout', auth: 'Bearer cf-good-key-0001' },
];
const providerCases = PROVIDERS.map((p) => [p.name, p] as const);

const PROMPT = 'Say hello to the pool';
const user = (content: string) => [{ role: 'user' as const, content }];
const answer = (p: ProviderId, upstreamModel: string, said = PROMPT) => `Hello from ${p} (${upstreamModel}). You said: ${said}`;
/** The usage the emulator reports for a one-message prompt and a plain answer. */
const emulatorUsage = (prompt: string, completion: string): Usage => {
  const u = { prompt_tokens: estimateTokens(prompt), completion_tokens: estimateTokens(completion) };
  return { ...u, total_tokens: u.prompt_tokens + u.completion_tokens };
};
const counts = (u: Usage | null | undefined) =>
  u ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens } : u;

const bodyOf = (r: RecordedRequest) => r.body as UpstreamBody;
/** The model an upstream request asked for: in the body, or in the path for Cloudflare's native API. */
function upstreamModelOf(r: RecordedRequest): string | undefined {
  const run = /\/ai\/run\/(.+)$/.exec(r.path.split('?')[0]!);
  return run ? decodeURIComponent(run[1]!) : bodyOf(r).model;
}

const chunksOf = (events: unknown[]) => events.filter((e): e is Chunk => e !== '[DONE]');
const contentOf = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
const reasoningOf = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('');
const finishChunks = (chunks: Chunk[]) => chunks.filter((c) => c.choices.some((ch) => ch.finish_reason !== null));

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
} as const;
const CITY_TOOL = {
  type: 'function',
  function: { name: 'lookup_city', description: 'Facts about a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
} as const;

let emu: Emulator;
let gw: Gateway;
let client: OpenAI;

const chat = (body: Record<string, unknown>, headers: Record<string, string> = {}) => postJson(`${gw.baseURL}/chat/completions`, body, headers);

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu);
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0 });
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

afterEach(() => emu.reset());

// ---- non-stream -------------------------------------------------------------------------

describe('non-stream, provider forced with the `provider` field', () => {
  it.each(providerCases)('%s answers with its own text, usage and routing headers', async (_, p) => {
    const upstream = routeOf(p.model, p.name);
    const res = await chat({ model: p.model, messages: user(PROMPT), provider: p.field }, { 'x-request-id': 'client-req-0042' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-request-id')).toBe('client-req-0042');
    expect(res.headers.get('x-pool-provider')).toBe(p.name);
    expect(res.headers.get('x-pool-upstream-model')).toBe(upstream);

    const body = (await res.json()) as Completion;
    expect(body.object).toBe('chat.completion');
    // The model that served, not the id asked for (RESPONSE_MODEL=requested echoes that instead).
    expect(body.model).toBe(upstream);
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0]!.message.role).toBe('assistant');
    expect(body.choices[0]!.message.content).toBe(answer(p.emu, upstream));
    expect(body.choices[0]!.finish_reason).toBe('stop');
    // The upstream counted: its usage passes through as it is.
    expect(counts(body.usage)).toEqual(emulatorUsage(PROMPT, answer(p.emu, upstream)));
    expect(body.usage!.total_tokens).toBe(body.usage!.prompt_tokens + body.usage!.completion_tokens);
    expect(body.usage!.total_tokens).toBeGreaterThan(0);

    const calls = emu.requests(p.emu);
    expect(calls).toHaveLength(1);
    expect(upstreamModelOf(calls[0]!)).toBe(upstream);
    expect(calls[0]!.headers.authorization).toBe(p.auth);
    expect(emu.requests()).toHaveLength(1);
  });

  it.each(providerCases)('%s: the answer validates against CreateChatCompletionResponse', async (_, p) => {
    const res = await chat({ model: p.model, messages: user(PROMPT), provider: p.field });
    expect(res.status).toBe(200);
    expectSchema('CreateChatCompletionResponse', await res.json());
  });

  it('a fresh x-request-id is made when the client sends none', async () => {
    const [a, b] = await Promise.all([chat({ model: 'gpt-4o-mini', messages: user('a') }), chat({ model: 'gpt-4o-mini', messages: user('b') })]);
    const ids = [a.headers.get('x-request-id'), b.headers.get('x-request-id')];
    expect(ids[0]).toMatch(/^\S{8,}$/);
    expect(ids[1]).toMatch(/^\S{8,}$/);
    expect(ids[0]).not.toBe(ids[1]);
    await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  });

  it("one-api's channel test gets a string answer with non-null usage", async () => {
    const res = await postJson(
      `${gw.baseURL}/chat/completions`,
      '{"model": "gpt-4o-mini", "messages":[{"role":"user","content":"Output only your specific model name with no additional text."}]}',
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(typeof body.choices[0]!.message.content).toBe('string');
    expect(body.choices[0]!.message.content).toBe(answer('pollinations', 'openai', 'Output only your specific model name with no additional text.'));
    expect(body.usage).not.toBeNull();
    expect(body.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(body.usage!.completion_tokens).toBeGreaterThan(0);
    expect(body.usage!.total_tokens).toBe(body.usage!.prompt_tokens + body.usage!.completion_tokens);
  });

  it('relays a length finish when max_tokens cuts the answer', async () => {
    const upstream = routeOf('llama-3.3-70b', 'HuggingFace');
    const res = await chat({ model: 'llama-3.3-70b', provider: 'huggingface', messages: user(PROMPT), max_tokens: 3 });
    const body = (await res.json()) as Completion;
    expect(body.choices[0]!.message.content).toBe(answer('huggingface', upstream).split(' ').slice(0, 3).join(' '));
    expect(body.choices[0]!.finish_reason).toBe('length');
  });
});

// ---- stream -----------------------------------------------------------------------------

describe('stream, provider forced', () => {
  it.each(providerCases)('%s streams its answer as OpenAI chunks, with the usage chunk when asked', async (_, p) => {
    const upstream = routeOf(p.model, p.name);
    const res = await chat({ model: p.model, messages: user(PROMPT), provider: p.field, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.headers.get('x-pool-provider')).toBe(p.name);
    expect(res.headers.get('x-pool-upstream-model')).toBe(upstream);

    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.filter((e) => e === '[DONE]')).toHaveLength(1);
    const chunks = chunksOf(events);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const c of chunks) {
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.model).toBe(upstream);
      expect(c.id).toBe(chunks[0]!.id);
      expect(c.created).toBe(chunks[0]!.created);
    }
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(contentOf(chunks)).toBe(answer(p.emu, upstream));

    const finishes = finishChunks(chunks);
    expect(finishes).toHaveLength(1);
    expect(finishes[0]!.choices[0]!.finish_reason).toBe('stop');

    // The usage chunk comes last, after the finish chunk, with no choices.
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(chunks.indexOf(finishes[0]!)).toBeLessThan(chunks.length - 1);
    expect(chunks.filter((c) => c.usage)).toEqual([last]);
    const usage = last.usage!;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    // Pollinations streams carry no usage (the gateway estimates it); the others' usage passes through.
    if (p.emu !== 'pollinations') expect(counts(usage)).toEqual(emulatorUsage(PROMPT, answer(p.emu, upstream)));

    const calls = emu.requests(p.emu);
    expect(calls).toHaveLength(1);
    expect(bodyOf(calls[0]!).stream).toBe(true);
    expect(upstreamModelOf(calls[0]!)).toBe(upstream);
  });

  it.each(providerCases)('%s sends no usage chunk without include_usage', async (_, p) => {
    const upstream = routeOf(p.model, p.name);
    const res = await chat({ model: p.model, messages: user(PROMPT), provider: p.field, stream: true });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = chunksOf(events);
    expect(contentOf(chunks)).toBe(answer(p.emu, upstream));
    expect(finishChunks(chunks)).toHaveLength(1);
    expect(chunks.filter((c) => c.choices.length === 0)).toEqual([]);
    expect(chunks.filter((c) => c.usage !== undefined && c.usage !== null)).toEqual([]);
  });

  it.each(providerCases)('%s: every chunk validates against CreateChatCompletionStreamResponse', async (_, p) => {
    for (const includeUsage of [true, false]) {
      const res = await chat({ model: p.model, messages: user(PROMPT), provider: p.field, stream: true, stream_options: { include_usage: includeUsage } });
      expect(res.status).toBe(200);
      const chunks = chunksOf(await readSse(res));
      expect(chunks.length).toBeGreaterThan(0);
      for (const c of chunks) expectSchema('CreateChatCompletionStreamResponse', c);
    }
  });

  it('relays a length finish in a stream', async () => {
    const upstream = routeOf('llama-4-scout', 'DeepInfra');
    const res = await chat({ model: 'llama-4-scout', provider: 'DeepInfra', messages: user(PROMPT), max_completion_tokens: 2, stream: true });
    const chunks = chunksOf(await readSse(res));
    expect(contentOf(chunks)).toBe(answer('deepinfra', upstream).split(' ').slice(0, 2).join(' '));
    expect(finishChunks(chunks).map((c) => c.choices[0]!.finish_reason)).toEqual(['length']);
  });
});

// ---- the official SDK -------------------------------------------------------------------

describe('upstream connections', () => {
  it.each(['stream', 'non-stream'])('%s requests in a row reuse one keep-alive connection to the upstream', async (kind) => {
    const stream = kind === 'stream';
    const ask = async () => {
      const res = await chat({ model: 'llama-3.3-70b', messages: user(PROMPT), provider: 'deepinfra', stream });
      expect(res.status).toBe(200);
      return res.text();
    };
    await ask(); // the connection to the upstream may be new for this one
    const before = emu.connectionsAccepted();
    for (let i = 0; i < 10; i++) expect(await ask()).toContain(stream ? '[DONE]' : 'chat.completion');
    // A stream ends at [DONE], a moment before its HTTP body does: its connection must still go back to the pool.
    expect(emu.connectionsAccepted() - before).toBeLessThanOrEqual(1);
  });
});

describe('the official openai SDK', () => {
  it.each(providerCases)('%s: create() and a for-await stream both get the whole answer', async (_, p) => {
    const upstream = routeOf(p.model, p.name);
    const plain: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming & { provider: string } = { model: p.model, messages: user(PROMPT), provider: p.field };
    const { data, response } = await client.chat.completions.create(plain).withResponse();
    expect(response.headers.get('x-pool-provider')).toBe(p.name);
    expect(data.model).toBe(upstream);
    expect(data.choices[0]!.message.content).toBe(answer(p.emu, upstream));
    expect(data.usage!.total_tokens).toBeGreaterThan(0);

    const streaming: OpenAI.Chat.ChatCompletionCreateParamsStreaming & { provider: string } = {
      model: p.model,
      messages: user(PROMPT),
      provider: p.field,
      stream: true,
      stream_options: { include_usage: true },
    };
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    for await (const chunk of await client.chat.completions.create(streaming)) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(answer(p.emu, upstream));
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });
});

// ---- tools ------------------------------------------------------------------------------

describe('tool calls', () => {
  const MODEL = 'llama-3.3-70b';
  const UPSTREAM = routeOf(MODEL, 'DeepInfra');
  const messages = user('What is the weather in Paris today?');

  it('non-stream: message.tool_calls with finish_reason tool_calls; tools reach the upstream unchanged', async () => {
    const tools = [WEATHER_TOOL, CITY_TOOL];
    const res = await chat({ model: MODEL, provider: 'deepinfra', messages, tools, tool_choice: 'auto' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    const choice = body.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]!;
    expect(call.id).toMatch(/^call_\w+/);
    expect(call.type).toBe('function');
    expect(call.function?.name).toBe('get_weather');
    expect(JSON.parse(call.function!.arguments!)).toEqual({ city: 'Paris' });
    expect(body.usage!.completion_tokens).toBeGreaterThan(0);

    const [sent] = emu.requests('deepinfra');
    expect(bodyOf(sent!).tools).toEqual(tools);
    expect(bodyOf(sent!).tool_choice).toBe('auto');
    expect(bodyOf(sent!).model).toBe(UPSTREAM);
  });

  it('non-stream: a named tool_choice picks that tool and reaches the upstream as sent', async () => {
    const toolChoice = { type: 'function', function: { name: 'lookup_city' } };
    const res = await chat({
      model: MODEL,
      provider: 'DeepInfra',
      messages: user('Tell me about Paris'),
      tools: [WEATHER_TOOL, CITY_TOOL],
      tool_choice: toolChoice,
    });
    const body = (await res.json()) as Completion;
    expect(body.choices[0]!.message.tool_calls?.map((c) => c.function?.name)).toEqual(['lookup_city']);
    expect(body.choices[0]!.finish_reason).toBe('tool_calls');
    expect(bodyOf(emu.requests('deepinfra')[0]!).tool_choice).toEqual(toolChoice);
  });

  it('stream: the first tool_calls delta carries id and name, the arguments arrive in pieces', async () => {
    const res = await chat({ model: MODEL, provider: 'deepinfra', messages, tools: [WEATHER_TOOL], tool_choice: 'required', stream: true });
    expect(res.status).toBe(200);
    const chunks = chunksOf(await readSse(res));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather' } });
    for (const d of deltas.slice(1)) {
      expect(d.index).toBe(0);
      expect(d.id).toBeUndefined();
    }
    const pieces = deltas.map((d) => d.function?.arguments ?? '').filter((a) => a !== '');
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(pieces.join('')).toBe(TOOL_ARGUMENTS);
    expect(JSON.parse(pieces.join(''))).toEqual({ city: 'Paris' });
    expect(finishChunks(chunks).map((c) => c.choices[0]!.finish_reason)).toEqual(['tool_calls']);
    expect(bodyOf(emu.requests('deepinfra')[0]!).tool_choice).toBe('required');
  });

  it("stream: the SDK's accumulated tool call parses", async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_TOOL.function.parameters } },
    ];
    const params: OpenAI.Chat.ChatCompletionCreateParamsStreaming & { provider: string } = {
      model: MODEL,
      provider: 'deepinfra',
      messages,
      tools,
      stream: true,
    };
    const stream = client.chat.completions.stream(params);
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(bodyOf(emu.requests('deepinfra')[0]!).tools).toEqual(tools);
  });

  it('a tool result turn passes through and gets a text answer', async () => {
    const turn = [
      { role: 'user', content: 'What is the weather in Paris today?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: TOOL_ARGUMENTS } }] },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"temp_c":21}' },
    ];
    const res = await chat({ model: MODEL, provider: 'deepinfra', messages: turn, tools: [WEATHER_TOOL] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body.choices[0]!.finish_reason).toBe('stop');
    expect(body.choices[0]!.message.content).toBe(answer('deepinfra', UPSTREAM, 'What is the weather in Paris today?'));
    expect(bodyOf(emu.requests('deepinfra')[0]!).messages).toEqual(turn);
  });
});

// ---- reasoning --------------------------------------------------------------------------

describe('reasoning models', () => {
  const UPSTREAM = routeOf('deepseek-r1', 'DeepInfra');

  it('non-stream: reasoning_content on the message, next to the content', async () => {
    const res = await chat({ model: 'deepseek-r1', provider: 'DeepInfra', messages: user(PROMPT) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-upstream-model')).toBe(UPSTREAM);
    const body = (await res.json()) as Completion;
    expect(body.choices[0]!.message.reasoning_content).toBe(REASONING_TEXT);
    expect(body.choices[0]!.message.content).toBe(answer('deepinfra', UPSTREAM));
  });

  it('stream: delta.reasoning_content arrives before the content', async () => {
    const res = await chat({ model: 'deepseek-r1', provider: 'deepinfra', messages: user(PROMPT), stream: true });
    const chunks = chunksOf(await readSse(res));
    expect(reasoningOf(chunks)).toBe(REASONING_TEXT);
    expect(contentOf(chunks)).toBe(answer('deepinfra', UPSTREAM));
    const lastReasoning = chunks.findLastIndex((c) => !!c.choices[0]?.delta.reasoning_content);
    const firstContent = chunks.findIndex((c) => !!c.choices[0]?.delta.content);
    expect(lastReasoning).toBeGreaterThanOrEqual(0);
    expect(lastReasoning).toBeLessThan(firstContent);
  });

  it('stream with include_usage: the usage chunk carries completion_tokens_details.reasoning_tokens from the upstream', async () => {
    const res = await chat({ model: 'deepseek-r1', provider: 'DeepInfra', messages: user(PROMPT), stream: true, stream_options: { include_usage: true } });
    const last = chunksOf(await readSse(res)).at(-1) as unknown as {
      usage: { completion_tokens: number; completion_tokens_details?: { reasoning_tokens: number } };
    };
    expect(last.usage.completion_tokens_details).toEqual({ reasoning_tokens: Math.ceil(REASONING_TEXT.length / 4) });
    expect(last.usage.completion_tokens).toBeGreaterThan(last.usage.completion_tokens_details!.reasoning_tokens);
  });

  it('non-stream: the same detail in usage', async () => {
    const body = (await (await chat({ model: 'deepseek-r1', provider: 'DeepInfra', messages: user(PROMPT) })).json()) as {
      usage: { completion_tokens_details?: { reasoning_tokens: number } };
    };
    expect(body.usage.completion_tokens_details).toEqual({ reasoning_tokens: Math.ceil(REASONING_TEXT.length / 4) });
  });
});

describe("tool-call and reasoning answers in OpenAI's shape", () => {
  it.each([
    ['a tool call', { model: 'llama-3.3-70b', provider: 'deepinfra', messages: user('Weather in Paris?'), tools: [WEATHER_TOOL] }],
    ['reasoning', { model: 'deepseek-r1', provider: 'deepinfra', messages: user(PROMPT) }],
  ])('%s validates against the response and stream chunk schemas', async (_, request) => {
    const res = await chat(request);
    expect(res.status).toBe(200);
    expectSchema('CreateChatCompletionResponse', await res.json());
    const stream = await chat({ ...request, stream: true, stream_options: { include_usage: true } });
    const chunks = chunksOf(await readSse(stream));
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expectSchema('CreateChatCompletionStreamResponse', c);
  });
});

// ---- passthrough ------------------------------------------------------------------------

describe('parameter passthrough', () => {
  const MODEL = 'llama-3.3-70b';
  const PARAMS = {
    temperature: 0.3,
    top_p: 0.9,
    max_tokens: 64,
    max_completion_tokens: 80,
    stop: ['\n\nUser:', 'END'],
    seed: 42,
    presence_penalty: 0.5,
    frequency_penalty: -0.25,
    user: 'user-1234',
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'reply',
        strict: true,
        schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
      },
    },
  };
  const pick = (body: UpstreamBody, keys: string[]) => Object.fromEntries(keys.filter((k) => k in body).map((k) => [k, body[k]]));

  it.each([
    ['non-stream', false],
    ['stream', true],
  ])('%s: generation parameters arrive exactly; gateway-only fields do not', async (_, stream) => {
    const messages = [
      { role: 'system', content: 'Answer in JSON.' },
      { role: 'user', content: PROMPT },
    ];
    const res = await chat({ model: MODEL, provider: 'Together', messages, stream, ...PARAMS });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const [sent] = emu.requests('together');
    const body = bodyOf(sent!);
    expect(pick(body, Object.keys(PARAMS))).toEqual(PARAMS);
    expect(body.model).toBe(routeOf(MODEL, 'Together'));
    expect(body.messages).toEqual(messages);
    expect(body.stream).toBe(stream);
    expect(body).not.toHaveProperty('provider');
  });

  it('a field the gateway does not know passes through too', async () => {
    const res = await chat({ model: MODEL, provider: 'huggingface', messages: user(PROMPT), reasoning_effort: 'low', logit_bias: { '1234': -100 } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const body = bodyOf(emu.requests('huggingface')[0]!);
    expect(body.reasoning_effort).toBe('low');
    expect(body.logit_bias).toEqual({ '1234': -100 });
  });

  it("Cloudflare's native body gets the parameters Workers AI takes", async () => {
    const res = await chat({
      model: 'llama-4-scout',
      provider: 'cloudflareai',
      messages: user(PROMPT),
      temperature: 0.3,
      top_p: 0.9,
      seed: 42,
      presence_penalty: 0.5,
      frequency_penalty: -0.25,
      max_completion_tokens: 80,
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const body = bodyOf(emu.requests('cloudflare')[0]!);
    expect(body).toMatchObject({ temperature: 0.3, top_p: 0.9, seed: 42, presence_penalty: 0.5, frequency_penalty: -0.25, max_tokens: 80 });
    expect(body).not.toHaveProperty('provider');
  });
});

// ---- vision -----------------------------------------------------------------------------

describe('vision content parts', () => {
  const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
  const messages = [
    { role: 'system', content: 'You describe images.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these images?' },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
        { type: 'image_url', image_url: { url: PNG } },
      ],
    },
  ];

  it.each([
    ['Together', 'together', 'llama-3.2-11b'],
    ['PollinationsAI', 'pollinations', 'gpt-4o'],
  ] as const)('reach %s unchanged', async (name, id, model) => {
    const res = await chat({ model, provider: name, messages });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body.choices[0]!.message.content).toBe(answer(id, routeOf(model, name), 'What is in these images?'));
    const sent = bodyOf(emu.requests(id)[0]!);
    expect(sent.messages).toEqual(messages);
  });
});

// ---- routing across providers -----------------------------------------------------------

describe('unforced routing', () => {
  const MODEL = 'llama-3.3-70b';
  const SERVERS = CATALOG.find((m) => m.id === MODEL)!.routes.map((r) => r.provider);
  const EMU_ID: Record<string, ProviderId> = {
    PollinationsAI: 'pollinations',
    DeepInfra: 'deepinfra',
    Together: 'together',
    HuggingFace: 'huggingface',
    CloudflareAI: 'cloudflare',
  };

  async function spread(target: Gateway, n: number): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await postJson(`${target.baseURL}/chat/completions`, { model: MODEL, messages: user(`request ${i}`) });
      expect(res.status).toBe(200);
      const provider = res.headers.get('x-pool-provider') ?? '';
      expect(SERVERS).toContain(provider);
      expect(res.headers.get('x-pool-upstream-model')).toBe(routeOf(MODEL, provider));
      const body = (await res.json()) as Completion;
      expect(body.choices[0]!.message.content).toBe(answer(EMU_ID[provider]!, routeOf(MODEL, provider), `request ${i}`));
      seen.push(provider);
    }
    return seen;
  }

  it('lands on a configured provider and says which one', async () => {
    expect(SERVERS).toEqual(expect.arrayContaining(['PollinationsAI', 'DeepInfra', 'Together', 'HuggingFace']));
    const seen = await spread(gw, 20);
    // Each answer came from the provider the header named, once.
    for (const name of new Set(seen)) expect(emu.requests(EMU_ID[name]!)).toHaveLength(seen.filter((s) => s === name).length);
    expect(emu.requests()).toHaveLength(20);
    expect(new Set(seen).size).toBeGreaterThan(1);
  });

  describe('a provider without a key', () => {
    let keyless: Gateway;
    beforeAll(async () => {
      keyless = await startGateway(emu, { DEEPINFRA_API_KEY: '' });
    });
    afterAll(() => keyless?.close());

    it('is never tried', async () => {
      const seen = await spread(keyless, 20);
      expect(seen).not.toContain('DeepInfra');
      expect(emu.requests('deepinfra')).toEqual([]);
    });

    it('forcing it, or a model only it serves, is a 503 that says the key is missing', async () => {
      for (const body of [
        { model: MODEL, messages: user(PROMPT), provider: 'deepinfra' },
        { model: 'phi-4-reasoning-plus', messages: user(PROMPT) },
      ]) {
        const res = await postJson(`${keyless.baseURL}/chat/completions`, body);
        expect(res.status).toBe(503);
        const err = (await res.json()) as ErrorEnvelope;
        expectSchema('ErrorResponse', err);
        expect(err.error.code).toBe('no_available_provider');
        expect(err.error.message).toContain('DEEPINFRA_API_KEY');
      }
      expect(emu.requests('deepinfra')).toEqual([]);
    });
  });

  describe('a provider switched off with <P>_ENABLED=false', () => {
    let disabled: Gateway;
    beforeAll(async () => {
      disabled = await startGateway(emu, { TOGETHER_ENABLED: 'false' });
    });
    afterAll(() => disabled?.close());

    it('is never tried', async () => {
      const seen = await spread(disabled, 20);
      expect(seen).not.toContain('Together');
      expect(emu.requests('together')).toEqual([]);
    });

    it('forcing it is a 503 that says it is disabled', async () => {
      const res = await postJson(`${disabled.baseURL}/chat/completions`, { model: MODEL, messages: user(PROMPT), provider: 'together' });
      expect(res.status).toBe(503);
      const err = (await res.json()) as ErrorEnvelope;
      expect(err.error.code).toBe('no_available_provider');
      expect(err.error.message).toMatch(/disabled/);
      expect(emu.requests('together')).toEqual([]);
    });
  });
});
