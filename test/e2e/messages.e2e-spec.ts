/**
 * POST /v1/messages (Anthropic Messages API) over real sockets: the request translated for the
 * upstream, the answer and the stream in Anthropic's shape and order, every error in Anthropic's
 * envelope, failover before the first byte and an `error` event after it, count_tokens.
 *
 * Routing is deterministic (ROUTING_STRATEGY=priority): DeepInfra → Together → HuggingFace →
 * PollinationsAI for `llama-3.3-70b`; breakers and key cooldowns are out of the way so that one
 * test's faults never leak into the next.
 */
import { REASONING_TEXT, TOOL_ARGUMENTS, answerText, estimateTokens } from '../emulators/answers.ts';
import { startEmulator, type Emulator, type RecordedRequest } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, startGateway, type Gateway } from '../support/gateway.ts';

const KEY = 'sk-messages-test-key';
const MODEL = 'llama-3.3-70b';
const DEEPINFRA_UPSTREAM = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const TOGETHER_UPSTREAM = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const PROMPT = 'Say hello to the pool';
/** A vision model with a DeepInfra route. */
const VISION_MODEL = 'llama-4-scout';
const BODY_LIMIT = 64 * 1024;

interface TypedEvent {
  event: string;
  data: { type: string; [key: string]: unknown };
}
interface ContentBlock {
  type: string;
  text?: string;
  thinking?: string;
  signature?: string;
  id?: string;
  name?: string;
  input?: unknown;
}
interface Message {
  id: string;
  type: string;
  role: string;
  model: string;
  content: ContentBlock[];
  stop_reason: string | null;
  stop_sequence: string | null;
  usage: { input_tokens: number; output_tokens: number };
}
interface AnthropicError {
  type: string;
  error: { type: string; message: string; attempts?: { provider: string }[] };
  request_id: string | null;
}
interface UpstreamBody {
  messages: { role: string; content: unknown; tool_calls?: unknown[]; tool_call_id?: string }[];
  [key: string]: unknown;
}

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let emu: Emulator;
let gw: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu, {
    API_KEY: KEY,
    BODY_LIMIT: String(BODY_LIMIT),
    ...FIXED_ORDER_ENV,
  });
});

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

afterEach(() => {
  emu.clearFaults();
  emu.reset();
});

function post(body: unknown, headers: Record<string, string> = { 'x-api-key': KEY }, path = '/v1/messages'): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const ask = (extra: Record<string, unknown> = {}) => ({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: PROMPT }], ...extra });

/** Reads an Anthropic stream into its events; every event has an `event:` line naming its `type`. */
async function readEvents(res: Response): Promise<TypedEvent[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
      const data = JSON.parse(
        lines
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n'),
      ) as TypedEvent['data'];
      return { event, data };
    });
}

async function expectError(res: Response, status: number, type: string): Promise<AnthropicError> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as AnthropicError;
  expect(body).toEqual({ type: 'error', error: expect.objectContaining({ type, message: expect.any(String) }), request_id: res.headers.get('x-request-id') });
  expect(body.error.message.length).toBeGreaterThan(0);
  // Anthropic's SDKs read the request id from `request-id`.
  expect(res.headers.get('request-id')).toBe(body.request_id);
  return body;
}

const upstreamBody = (r: RecordedRequest) => r.body as UpstreamBody;
const onlyRequest = (provider: 'deepinfra' | 'together') => {
  const sent = emu.requests(provider).filter((r) => r.path.endsWith('/chat/completions'));
  expect(sent).toHaveLength(1);
  return upstreamBody(sent[0]!);
};
const types = (events: TypedEvent[]) => events.map((e) => e.event);
const textOf = (events: TypedEvent[]) =>
  events
    .filter((e) => e.event === 'content_block_delta' && (e.data.delta as { type: string }).type === 'text_delta')
    .map((e) => (e.data.delta as { text: string }).text)
    .join('');

describe('non-stream', () => {
  it('answers a message in Anthropic’s shape, naming the model that served, with usage', async () => {
    const res = await post(ask({ provider: 'deepinfra' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    const body = (await res.json()) as Message;
    const text = answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT);
    expect(body).toEqual({
      id: expect.stringMatching(/^msg_[\w-]+$/),
      type: 'message',
      role: 'assistant',
      model: DEEPINFRA_UPSTREAM,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: estimateTokens(PROMPT), output_tokens: estimateTokens(text), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  });

  it('max_tokens reached → stop_reason max_tokens', async () => {
    const res = await post(ask({ provider: 'deepinfra', max_tokens: 3 }));
    const body = (await res.json()) as Message;
    expect(body.stop_reason).toBe('max_tokens');
    expect(body.content[0]!.text!.split(' ')).toHaveLength(3);
    expect(onlyRequest('deepinfra').max_tokens).toBe(3);
  });

  it('a reasoning model answers with a thinking block before the text', async () => {
    const res = await post({ ...ask({ provider: 'deepinfra' }), model: 'deepseek-r1', thinking: { type: 'enabled', budget_tokens: 1024 } });
    const body = (await res.json()) as Message;
    expect(body.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect(body.content[0]).toEqual({ type: 'thinking', thinking: REASONING_TEXT, signature: '' });
    // Accepted, not forwarded: the upstreams speak chat completions.
    expect(onlyRequest('deepinfra').thinking).toBeUndefined();
  });
});

describe('the request, as the upstream gets it', () => {
  it('system, text and image blocks, sampling, stop_sequences and metadata', async () => {
    const res = await post(
      ask({
        model: VISION_MODEL,
        provider: 'deepinfra',
        system: [
          { type: 'text', text: 'Be brief.' },
          { type: 'text', text: 'Answer in English.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            ],
          },
        ],
        temperature: 0.5,
        top_p: 0.9,
        top_k: 40,
        stop_sequences: ['END'],
        metadata: { user_id: 'user-42' },
      }),
    );
    expect(res.status).toBe(200);
    const sent = onlyRequest('deepinfra');
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief.\nAnswer in English.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
    expect(sent).toMatchObject({ temperature: 0.5, top_p: 0.9, top_k: 40, stop: ['END'], user: 'user-42', max_tokens: 256 });
    expect(sent.metadata).toBeUndefined();
    expect(sent.stop_sequences).toBeUndefined();
  });

  it('unsupported blocks and server tools are a 400 naming them, in Anthropic’s envelope', async () => {
    const document = { role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] };
    const error = await expectError(await post(ask({ messages: [document] })), 400, 'invalid_request_error');
    expect(error.error.message).toContain('messages[0].content[0].type');
    const webSearch = await expectError(await post(ask({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] })), 400, 'invalid_request_error');
    expect(webSearch.error.message).toContain('tools[0].type');
    expect(emu.requests()).toHaveLength(0);
  });
});

describe('stream', () => {
  it('sends Anthropic’s events in order, each with its event: line', async () => {
    const res = await post(ask({ provider: 'deepinfra', stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readEvents(res);
    for (const e of events) expect(e.event).toBe(e.data.type);
    const kinds = types(events);
    expect(kinds.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(kinds.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(new Set(kinds.slice(3, -3))).toEqual(new Set(['content_block_delta']));
    const text = answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT);
    expect(textOf(events)).toBe(text);
    const start = events[0]!.data.message as Message;
    expect(start).toMatchObject({ type: 'message', role: 'assistant', model: DEEPINFRA_UPSTREAM, content: [], stop_reason: null, stop_sequence: null });
    expect(start.usage.input_tokens).toBeGreaterThan(0);
    expect(events[1]!.data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(events.at(-2)!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: estimateTokens(PROMPT), output_tokens: estimateTokens(text), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    // No OpenAI leftovers.
    expect(events.some((e) => JSON.stringify(e.data).includes('[DONE]'))).toBe(false);
  });

  it('max_tokens reached → message_delta stop_reason max_tokens', async () => {
    const events = await readEvents(await post(ask({ provider: 'deepinfra', stream: true, max_tokens: 2 })));
    expect(events.find((e) => e.event === 'message_delta')!.data.delta).toEqual({ stop_reason: 'max_tokens', stop_sequence: null });
  });

  it('a reasoning model streams a thinking block, stopped before the text block starts', async () => {
    const events = await readEvents(await post({ ...ask({ provider: 'deepinfra', stream: true }), model: 'deepseek-r1' }));
    const blocks = events.filter((e) => e.event === 'content_block_start' || e.event === 'content_block_stop').map((e) => `${e.event}:${String(e.data.index)}`);
    expect(blocks).toEqual(['content_block_start:0', 'content_block_stop:0', 'content_block_start:1', 'content_block_stop:1']);
    expect(events.find((e) => e.event === 'content_block_start')!.data.content_block).toEqual({ type: 'thinking', thinking: '', signature: '' });
    const thinking = events
      .filter((e) => e.event === 'content_block_delta' && e.data.index === 0)
      .map((e) => (e.data.delta as { type: string; thinking: string }).thinking)
      .join('');
    expect(thinking).toBe(REASONING_TEXT);
  });
});

describe('stop sequences', () => {
  // The emulated DeepInfra reports the stop sequence that ended an answer (vLLM's stop_reason).
  const full = answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT);
  const cut = full.slice(0, full.indexOf('You said'));

  it('non-stream: stop_reason stop_sequence, naming it; the text ends before it', async () => {
    const body = (await (await post(ask({ provider: 'deepinfra', stop_sequences: ['NEVER', 'You said'] }))).json()) as Message;
    expect(body).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'You said', content: [{ type: 'text', text: cut }] });
  });

  it('stream: message_delta says stop_sequence, naming it', async () => {
    const events = await readEvents(await post(ask({ provider: 'deepinfra', stream: true, stop_sequences: ['You said'] })));
    expect(textOf(events)).toBe(cut);
    expect(events.find((e) => e.event === 'message_delta')!.data.delta).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'You said' });
  });

  it('a sequence that did not occur: end_turn, stop_sequence null', async () => {
    const body = (await (await post(ask({ provider: 'deepinfra', stop_sequences: ['NEVER'] }))).json()) as Message;
    expect(body).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null, content: [{ type: 'text', text: full }] });
  });
});

describe('tools', () => {
  const toolTurn = [{ role: 'user', content: 'What is the weather in Paris?' }];

  it('non-stream: a tool_use block with the parsed input, stop_reason tool_use; tools reach the upstream as functions', async () => {
    const res = await post(
      ask({ provider: 'deepinfra', messages: toolTurn, tools: [WEATHER_TOOL], tool_choice: { type: 'auto', disable_parallel_tool_use: true } }),
    );
    const body = (await res.json()) as Message;
    expect(body.stop_reason).toBe('tool_use');
    expect(body.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: JSON.parse(TOOL_ARGUMENTS) }]);
    const sent = onlyRequest('deepinfra');
    expect(sent.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.input_schema } },
    ]);
    expect(sent.tool_choice).toBe('auto');
    expect(sent.parallel_tool_calls).toBe(false);
  });

  it.each([
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
    [
      { type: 'tool', name: 'get_weather' },
      { type: 'function', function: { name: 'get_weather' } },
    ],
  ])('tool_choice %j → %j', async (choice, expected) => {
    const res = await post(ask({ provider: 'deepinfra', tools: [WEATHER_TOOL], tool_choice: choice }));
    expect(res.status).toBe(200);
    expect(onlyRequest('deepinfra').tool_choice).toEqual(expected);
  });

  it('stream: a tool_use block with input_json_delta pieces that add up to the arguments', async () => {
    const events = await readEvents(await post(ask({ provider: 'deepinfra', stream: true, messages: toolTurn, tools: [WEATHER_TOOL] })));
    const start = events.find((e) => e.event === 'content_block_start')!;
    expect(start.data.content_block).toEqual({ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: {} });
    const json = events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => e.data.delta as { type: string; partial_json: string })
      .map((d) => (expect(d.type).toBe('input_json_delta'), d.partial_json))
      .join('');
    expect(JSON.parse(json)).toEqual(JSON.parse(TOOL_ARGUMENTS));
    expect(events.find((e) => e.event === 'message_delta')!.data.delta).toEqual({ stop_reason: 'tool_use', stop_sequence: null });
    expect(types(events).at(-1)).toBe('message_stop');
  });

  it('a tool_result turn goes up as the assistant’s tool_calls and a tool message, and gets a text answer', async () => {
    const messages = [
      ...toolTurn,
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '{"temp_c":21}' }] },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ];
    const res = await post(ask({ provider: 'deepinfra', messages, tools: [WEATHER_TOOL] }));
    const body = (await res.json()) as Message;
    expect(body.stop_reason).toBe('end_turn');
    expect(body.content[0]!.type).toBe('text');
    expect(onlyRequest('deepinfra').messages).toEqual([
      { role: 'user', content: 'What is the weather in Paris?' },
      {
        role: 'assistant',
        content: 'Let me look.',
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '{"temp_c":21}' },
      { role: 'user', content: 'And tomorrow?' },
    ]);
  });
});

describe('errors, all in Anthropic’s envelope', () => {
  it('auth: x-api-key or Authorization: Bearer; none or a wrong one → 401 authentication_error', async () => {
    expect((await post(ask({ provider: 'deepinfra' }), { authorization: `Bearer ${KEY}` })).status).toBe(200);
    await expectError(await post(ask(), {}), 401, 'authentication_error');
    await expectError(await post(ask(), { 'x-api-key': 'sk-wrong' }), 401, 'authentication_error');
    await expectError(await post({ model: MODEL, messages: [] }, { 'x-api-key': 'sk-wrong' }, '/v1/messages/count_tokens'), 401, 'authentication_error');
  });

  it('Claude Code’s /v1/messages?beta=true: served, and its errors in Anthropic’s envelope too', async () => {
    expect((await post(ask({ provider: 'deepinfra' }), { 'x-api-key': KEY }, '/v1/messages?beta=true')).status).toBe(200);
    await expectError(await post(ask(), { 'x-api-key': 'sk-wrong' }, '/v1/messages?beta=true'), 401, 'authentication_error');
  });

  it('the rest of /v1 keeps OpenAI’s envelope', async () => {
    const res = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
    expect(res.headers.get('request-id')).toBeNull();
  });

  it.each([
    ['no max_tokens', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, 'max_tokens'],
    ['a bad role', ask({ messages: [{ role: 'system', content: 'hi' }] }), 'messages[0].role'],
    ['no messages', ask({ messages: [] }), 'messages'],
    ['temperature above 1', ask({ temperature: 1.5 }), 'temperature'],
    ['a bad tool_choice', ask({ tools: [WEATHER_TOOL], tool_choice: { type: 'tool' } }), 'tool_choice'],
    ['five stop sequences', ask({ stop_sequences: ['a', 'b', 'c', 'd', 'e'] }), 'stop_sequences'],
  ])('validation: %s → 400 invalid_request_error naming it', async (_name, body, param) => {
    const error = await expectError(await post(body), 400, 'invalid_request_error');
    expect(error.error.message).toContain(param);
  });

  it('a body that is not JSON → 400; not declared JSON → 415; both invalid_request_error', async () => {
    await expectError(await post('{"model": '), 400, 'invalid_request_error');
    const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-api-key': KEY }, body: 'hi' });
    await expectError(res, 415, 'invalid_request_error');
  });

  it('a body over BODY_LIMIT → 413 request_too_large, declared or streamed', async () => {
    const big = JSON.stringify(ask({ messages: [{ role: 'user', content: 'x'.repeat(BODY_LIMIT) }] }));
    await expectError(await post(big), 413, 'request_too_large');
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    await expectError(res, 413, 'request_too_large');
  });

  it('an unknown model → 404 not_found_error, stream or not; an unknown path under /v1/messages too', async () => {
    await expectError(await post(ask({ model: 'no-such-model' })), 404, 'not_found_error');
    await expectError(await post(ask({ model: 'no-such-model', stream: true })), 404, 'not_found_error');
    await expectError(await post(ask(), { 'x-api-key': KEY }, '/v1/messages/nope'), 404, 'not_found_error');
  });

  it('a client key over its rpm limit → 429 rate_limit_error', async () => {
    const login = await fetch(`${gw.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'admin-test-password' }),
    });
    const { token } = (await login.json()) as { token: string };
    const created = await fetch(`${gw.url}/api/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'messages-rpm', rpmLimit: 1 }),
    });
    const { secret: key } = (await created.json()) as { secret: string };
    expect((await post(ask({ provider: 'deepinfra' }), { 'x-api-key': key })).status).toBe(200);
    const error = await expectError(await post(ask(), { 'x-api-key': key }), 429, 'rate_limit_error');
    expect(error.error.message).toContain('1 requests per minute');
  });
});

describe('failover', () => {
  it.each([false, true])('a failure before the first byte moves on to the next provider (stream: %s)', async (stream) => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
    const res = await post(ask({ stream }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    const text = answerText('together', TOGETHER_UPSTREAM, PROMPT);
    if (stream) expect(textOf(await readEvents(res))).toBe(text);
    else expect(((await res.json()) as Message).content).toEqual([{ type: 'text', text }]);
    expect(emu.requests('deepinfra')).toHaveLength(1);
  });

  it.each([false, true])('every route failing → an HTTP error status and the envelope listing the attempts, not a 200 stream (stream: %s)', async (stream) => {
    for (const provider of ['deepinfra', 'together', 'huggingface', 'pollinations'] as const) emu.addFault({ provider, mode: 'status', status: 500 });
    const error = await expectError(await post(ask({ stream })), 502, 'api_error');
    expect(error.error.attempts?.map((a) => a.provider)).toEqual(expect.arrayContaining(['DeepInfra', 'Together']));
  });

  it('after the first byte: no failover, an error event and no message_stop after it', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const res = await post(ask({ stream: true }));
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data).toEqual({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('DeepInfra') } });
    expect(types(events)).not.toContain('message_stop');
    expect(types(events)).not.toContain('message_delta');
    expect(textOf(events).length).toBeGreaterThan(0);
    expect(emu.requests('together')).toHaveLength(0);
  });
});

describe('the request log', () => {
  it('records each request as a messages one, stream or not, failed or not', async () => {
    const ids: string[] = [];
    for (const body of [ask({ provider: 'deepinfra' }), ask({ provider: 'deepinfra', stream: true }), ask({ model: 'no-such-model' })]) {
      const res = await post(body);
      await res.arrayBuffer();
      ids.push(res.headers.get('x-request-id')!);
    }
    const admin = await adminHeaders(gw);
    const page = (await (await fetch(`${gw.url}/api/logs?pageSize=200`, { headers: admin })).json()) as {
      items: { requestId: string; endpoint: string; stream: boolean; status: number; provider: string | null; model: string }[];
    };
    const entries = ids.map((id) => page.items.find((e) => e.requestId === id));
    expect(entries.map((e) => e && [e.endpoint, e.stream, e.status, e.provider, e.model])).toEqual([
      ['messages', false, 200, 'DeepInfra', MODEL],
      ['messages', true, 200, 'DeepInfra', MODEL],
      ['messages', false, 404, null, 'no-such-model'],
    ]);
  });
});

describe('POST /v1/messages/count_tokens', () => {
  it('answers {input_tokens}: more for a longer prompt, more with tools; never asks an upstream', async () => {
    const count = async (body: Record<string, unknown>) => {
      const res = await post({ model: MODEL, ...body }, { 'x-api-key': KEY }, '/v1/messages/count_tokens');
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { input_tokens: number };
      expect(Object.keys(answer)).toEqual(['input_tokens']);
      return answer.input_tokens;
    };
    const short = await count({ messages: [{ role: 'user', content: 'Hello' }] });
    const long = await count({ system: 'You are a helpful assistant.', messages: [{ role: 'user', content: 'Hello, how is the weather in Paris today?' }] });
    const withTools = await count({
      system: 'You are a helpful assistant.',
      messages: [{ role: 'user', content: 'Hello, how is the weather in Paris today?' }],
      tools: [WEATHER_TOOL],
    });
    expect(short).toBeGreaterThan(0);
    expect(long).toBeGreaterThan(short);
    expect(withTools).toBeGreaterThan(long);
    expect(emu.requests()).toHaveLength(0);
  });

  it('an unknown model → 404 not_found_error; a bad body → 400', async () => {
    await expectError(
      await post({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': KEY }, '/v1/messages/count_tokens'),
      404,
      'not_found_error',
    );
    await expectError(await post({ model: MODEL, messages: 'hi' }, { 'x-api-key': KEY }, '/v1/messages/count_tokens'), 400, 'invalid_request_error');
  });
});
