/**
 * POST /v1/responses (OpenAI's Responses API) on the failover core, over real sockets to the
 * emulators: the response object and the typed stream events as OpenAI's spec shapes them (event
 * order, `sequence_number`), function calls and their outputs, reasoning, the `incomplete`
 * status, stored responses (GET, DELETE, `previous_response_id`, `store: false`, one key's
 * responses hidden from another), refusals naming the param, and failover before the first byte
 * only (a `response.failed` event after it, never text from two providers).
 *
 * Routing is deterministic (ROUTING_STRATEGY=priority): DeepInfra, then Together, for MODEL.
 */
import { REASONING_TEXT, TOOL_ARGUMENTS, answerText } from '../emulators/answers.ts';
import { startEmulator, type Emulator, type RecordedRequest } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { expectSchema as expectSpecSchema, validateSchema } from '../support/openapi.ts';

const MODEL = 'llama-3.3-70b';
const DEEPINFRA_UPSTREAM = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const TOGETHER_UPSTREAM = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const PROMPT = 'Say hello';
const KEY_A = 'sk-responses-key-a';
const KEY_B = 'sk-responses-key-b';

interface OutputItem {
  type: string;
  id: string;
  status?: string;
  role?: string;
  content?: { type: string; text: string }[];
  call_id?: string;
  name?: string;
  arguments?: string;
}
interface ResponseObject {
  id: string;
  object: string;
  status: string;
  model: string;
  instructions: string | null;
  output: OutputItem[];
  incomplete_details: { reason: string } | null;
  error: { code: string; message: string } | null;
  previous_response_id: string | null;
  store: boolean;
  usage: { input_tokens: number; output_tokens: number; total_tokens: number; output_tokens_details: { reasoning_tokens: number } } | null;
}
interface StreamEvent {
  event: string;
  data: { type: string; sequence_number: number; [key: string]: unknown };
}
interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const WEATHER_TOOL = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** The spec's validator; `strict: false` only compiles it (warm-up). */
function expectSchema(schema: string, value: unknown, strict = true): void {
  if (strict) expectSpecSchema(schema, value);
  else validateSchema(schema, value);
}

let emu: Emulator;
let gw: Gateway;
let keyed: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  const routing = FIXED_ORDER_ENV;
  gw = await startGateway(emu, routing);
  keyed = await startGateway(emu, { ...routing, API_KEY: `${KEY_A},${KEY_B}` });
  // Compiling the spec's validators takes seconds: once here, not inside the first test.
  for (const schema of ['Response', 'ResponseStreamEvent', 'ErrorResponse', 'ResponseItemList']) expectSchema(schema, {}, false);
}, 60_000);

afterAll(async () => {
  await keyed?.close();
  await gw?.close();
  await emu?.close();
});

afterEach(() => emu.reset());

const create = (body: Record<string, unknown>, headers: Record<string, string> = {}, on = gw) => postJson(`${on.baseURL}/responses`, body, headers);
const retrieve = (id: string, headers: Record<string, string> = {}, on = gw) => fetch(`${on.baseURL}/responses/${id}`, { headers });
const remove = (id: string, headers: Record<string, string> = {}, on = gw) => fetch(`${on.baseURL}/responses/${id}`, { method: 'DELETE', headers });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

const upstreamBody = (r: RecordedRequest) =>
  r.body as { messages: { role: string; content: unknown; tool_calls?: unknown[]; tool_call_id?: string }[]; [k: string]: unknown };

/** Parses an SSE body into its events, keeping each `event:` line next to its data. */
async function readEvents(res: Response): Promise<StreamEvent[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return { event, data: JSON.parse(data) as StreamEvent['data'] };
    });
}

/** Every event named by its `event:` line as its type, numbered 0, 1, 2 … and valid per the spec. */
function expectWellFormed(events: StreamEvent[]): void {
  events.forEach(({ event, data }, i) => {
    expect({ i, event }).toEqual({ i, event: data.type });
    expect({ i, sequence_number: data.sequence_number }).toEqual({ i, sequence_number: i });
    expectSchema('ResponseStreamEvent', data);
  });
}

const types = (events: StreamEvent[]) => events.map((e) => e.data.type);
const textOf = (response: ResponseObject) =>
  response.output
    .filter((o) => o.type === 'message')
    .flatMap((o) => o.content!.map((c) => c.text))
    .join('');

describe('non-stream', () => {
  it('answers with a response object exactly as the spec shapes it, echoing the request and naming the model that served', async () => {
    const res = await create({ model: MODEL, input: PROMPT, instructions: 'Be brief.', metadata: { ticket: '42' }, temperature: 0.5 });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    expect(res.headers.get('x-pool-upstream-model')).toBe(DEEPINFRA_UPSTREAM);
    const body = (await res.json()) as ResponseObject;
    expectSchema('Response', body);
    expect(body).toMatchObject({
      object: 'response',
      status: 'completed',
      // The model that served (RESPONSE_MODEL=served, the default), as on chat.
      model: DEEPINFRA_UPSTREAM,
      instructions: 'Be brief.',
      store: true,
      error: null,
      incomplete_details: null,
    });
    expect(body.id).toMatch(/^resp_/);
    expect(body.output).toHaveLength(1);
    expect(body.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(textOf(body)).toBe(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT));
    expect(body.usage!.total_tokens).toBe(body.usage!.input_tokens + body.usage!.output_tokens);
    expect(body.usage!.output_tokens).toBeGreaterThan(0);
    // The upstream got a chat request: instructions first, as a system message, and nothing Responses-only.
    const sent = upstreamBody(emu.requests('deepinfra')[0]!);
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: PROMPT },
    ]);
    expect(sent.temperature).toBe(0.5);
    for (const field of ['input', 'instructions', 'metadata', 'store', 'text']) expect(sent).not.toHaveProperty(field);
  });

  it('takes input items with text parts, and max_output_tokens reached is status incomplete', async () => {
    const input = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'count to ten slowly please' }] }];
    const res = await create({ model: MODEL, input, max_output_tokens: 3 });
    const body = (await res.json()) as ResponseObject;
    expectSchema('Response', body);
    expect(body.status).toBe('incomplete');
    expect(body.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(textOf(body).split(' ')).toHaveLength(3);
    expect(upstreamBody(emu.requests('deepinfra')[0]!)).toMatchObject({
      max_tokens: 3,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'count to ten slowly please' }] }],
    });
  });

  it('gives a reasoning item before the message when the upstream reasons', async () => {
    const res = await create({ model: 'deepseek-r1', provider: 'DeepInfra', input: PROMPT, reasoning: { effort: 'low' } });
    const body = (await res.json()) as ResponseObject;
    expectSchema('Response', body);
    expect(body.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    expect(body.output[0]!.content).toEqual([{ type: 'reasoning_text', text: REASONING_TEXT }]);
  });
});

describe('the request log', () => {
  it('records each answer as the responses endpoint, with the provider that served it', async () => {
    const res = await create({ model: MODEL, input: PROMPT, stream: true }, { 'x-request-id': 'responses-log-1' });
    await res.text();
    const admin = await adminHeaders(gw);
    type Entry = { requestId: string; endpoint: string; stream: boolean; status: number; provider: string | null };
    let entry: Entry | undefined;
    for (let i = 0; i < 50 && !entry; i++) {
      const page = (await (await fetch(`${gw.url}/api/logs?pageSize=50`, { headers: admin })).json()) as { items: Entry[] };
      entry = page.items.find((e) => e.requestId === 'responses-log-1');
      if (!entry) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(entry).toMatchObject({ endpoint: 'responses', stream: true, status: 200, provider: 'DeepInfra' });
  });
});

describe('stream', () => {
  it('sends the typed events in their documented order, numbered, ending with the whole response', async () => {
    const res = await create({ model: MODEL, input: PROMPT, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    const events = await readEvents(res);
    expectWellFormed(events);
    const kinds = types(events);
    const deltas = kinds.filter((t) => t === 'response.output_text.delta').length;
    expect(deltas).toBeGreaterThan(1);
    expect(kinds).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array<string>(deltas).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const text = answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT);
    expect(events.filter((e) => e.data.type === 'response.output_text.delta').map((e) => e.data.delta)).toEqual(expect.arrayContaining([expect.any(String)]));
    expect(
      events
        .filter((e) => e.data.type === 'response.output_text.delta')
        .map((e) => e.data.delta)
        .join(''),
    ).toBe(text);
    expect(events.find((e) => e.data.type === 'response.output_text.done')!.data.text).toBe(text);
    const created = events[0]!.data.response as ResponseObject;
    const completed = events.at(-1)!.data.response as ResponseObject;
    expect(created.status).toBe('in_progress');
    expect(completed.id).toBe(created.id);
    expect(completed.status).toBe('completed');
    expect(textOf(completed)).toBe(text);
    expect(completed.usage!.output_tokens).toBeGreaterThan(0);
    // Stored as streamed.
    expect(await (await retrieve(completed.id)).json()).toEqual(completed);
  });

  it('max_output_tokens reached ends with response.incomplete, the message incomplete', async () => {
    const events = await readEvents(await create({ model: MODEL, input: 'count to ten slowly please', max_output_tokens: 2, stream: true }));
    expectWellFormed(events);
    const last = events.at(-1)!.data;
    expect(last.type).toBe('response.incomplete');
    const response = last.response as ResponseObject;
    expect(response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(response.output[0]!.status).toBe('incomplete');
    expect(textOf(response).split(' ')).toHaveLength(2);
    expect(await (await retrieve(response.id)).json()).toEqual(response);
  });

  it('streams reasoning as its own item before the message', async () => {
    const events = await readEvents(await create({ model: 'deepseek-r1', provider: 'DeepInfra', input: PROMPT, stream: true }));
    expectWellFormed(events);
    const reasoning = events.filter((e) => e.data.type === 'response.reasoning_text.delta').map((e) => e.data.delta);
    expect(reasoning.join('')).toBe(REASONING_TEXT);
    const kinds = types(events);
    expect(kinds.indexOf('response.reasoning_text.done')).toBeLessThan(kinds.indexOf('response.output_text.delta'));
    const done = events.filter((e) => e.data.type === 'response.output_item.done').map((e) => (e.data.item as OutputItem).type);
    expect(done).toEqual(['reasoning', 'message']);
  });
});

describe('function calls', () => {
  it('non-stream: a function_call item, then its output continues to a text answer', async () => {
    const first = (await (await create({ model: MODEL, input: 'What is the weather in Paris?', tools: [WEATHER_TOOL] })).json()) as ResponseObject;
    expectSchema('Response', first);
    expect(first.output).toHaveLength(1);
    const call = first.output[0]!;
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: TOOL_ARGUMENTS, status: 'completed' });
    expect(call.call_id).toEqual(expect.any(String));
    const sent = upstreamBody(emu.requests('deepinfra')[0]!);
    expect(sent.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.parameters } },
    ]);

    emu.reset();
    const input = [
      { role: 'user', content: 'What is the weather in Paris?' },
      { type: 'function_call', call_id: call.call_id, name: 'get_weather', arguments: TOOL_ARGUMENTS },
      { type: 'function_call_output', call_id: call.call_id, output: '{"temperature":21}' },
    ];
    const second = (await (await create({ model: MODEL, input, tools: [WEATHER_TOOL], store: false })).json()) as ResponseObject;
    expectSchema('Response', second);
    expect(second.output.map((o) => o.type)).toEqual(['message']);
    expect(upstreamBody(emu.requests('deepinfra')[0]!).messages).toEqual([
      { role: 'user', content: 'What is the weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: TOOL_ARGUMENTS } }] },
      { role: 'tool', tool_call_id: call.call_id, content: '{"temperature":21}' },
    ]);
  });

  it('stream: function_call_arguments deltas and done, inside the function_call item', async () => {
    const events = await readEvents(
      await create({ model: MODEL, input: 'Weather in Paris?', tools: [WEATHER_TOOL], tool_choice: { type: 'function', name: 'get_weather' }, stream: true }),
    );
    expectWellFormed(events);
    const kinds = types(events);
    expect(kinds[2]).toBe('response.output_item.added');
    expect((events[2]!.data.item as OutputItem).type).toBe('function_call');
    expect(kinds).toContain('response.function_call_arguments.delta');
    const args = events.filter((e) => e.data.type === 'response.function_call_arguments.delta').map((e) => e.data.delta);
    expect(args.join('')).toBe(TOOL_ARGUMENTS);
    expect(events.find((e) => e.data.type === 'response.function_call_arguments.done')!.data).toMatchObject({ name: 'get_weather', arguments: TOOL_ARGUMENTS });
    expect(kinds.slice(-2)).toEqual(['response.output_item.done', 'response.completed']);
    expect(upstreamBody(emu.requests('deepinfra')[0]!).tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
  });
});

describe('stored responses', () => {
  it('GET returns the stored response; DELETE answers the deletion object, and the response is gone', async () => {
    const created = (await (await create({ model: MODEL, input: PROMPT })).json()) as ResponseObject;
    const got = await retrieve(created.id);
    expect(got.status).toBe(200);
    const body = (await got.json()) as ResponseObject;
    expectSchema('Response', body);
    expect(body).toEqual(created);

    const deleted = await remove(created.id);
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ id: created.id, object: 'response.deleted', deleted: true });
    const after = await retrieve(created.id);
    expect(after.status).toBe(404);
    const envelope = (await after.json()) as ErrorEnvelope;
    expectSchema('ErrorResponse', envelope);
    expect(envelope.error.type).toBe('invalid_request_error');
    expect((await remove(created.id)).status).toBe(404);
  });

  it('store: false keeps nothing: GET is a 404 in the OpenAI envelope', async () => {
    const created = (await (await create({ model: MODEL, input: PROMPT, store: false })).json()) as ResponseObject;
    expect(created.store).toBe(false);
    const res = await retrieve(created.id);
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorEnvelope).error.message).toContain(created.id);
  });

  it('previous_response_id continues the conversation, without the earlier instructions', async () => {
    const first = (await (await create({ model: MODEL, input: 'My name is Ada.', instructions: 'Answer in French.' })).json()) as ResponseObject;
    emu.reset();
    const res = await create({ model: MODEL, input: 'What is my name?', previous_response_id: first.id, instructions: 'Answer in English.' });
    expect(res.status).toBe(200);
    const second = (await res.json()) as ResponseObject;
    expect(second.previous_response_id).toBe(first.id);
    expect(second.instructions).toBe('Answer in English.');
    expect(upstreamBody(emu.requests('deepinfra')[0]!).messages).toEqual([
      { role: 'system', content: 'Answer in English.' },
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: textOf(first) },
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  it('a conversation of several turns is rebuilt whole; with a turn deleted it is a 400 naming that turn', async () => {
    const first = (await (await create({ model: MODEL, input: 'One.' })).json()) as ResponseObject;
    const second = (await (await create({ model: MODEL, input: 'Two.', previous_response_id: first.id })).json()) as ResponseObject;
    emu.reset();
    const third = (await (await create({ model: MODEL, input: 'Three.', previous_response_id: second.id })).json()) as ResponseObject;
    expect(upstreamBody(emu.requests('deepinfra')[0]!).messages).toEqual([
      { role: 'user', content: 'One.' },
      { role: 'assistant', content: textOf(first) },
      { role: 'user', content: 'Two.' },
      { role: 'assistant', content: textOf(second) },
      { role: 'user', content: 'Three.' },
    ]);
    expect((await remove(second.id)).status).toBe(200);
    emu.reset();
    const res = await create({ model: MODEL, input: 'Four.', previous_response_id: third.id });
    expect(res.status).toBe(400);
    const error = ((await res.json()) as ErrorEnvelope).error;
    expect(error).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found' });
    expect(error.message).toContain(second.id);
    expect(emu.requests()).toEqual([]);
  });

  it('an unknown previous_response_id is a 400 naming it, before any upstream is called', async () => {
    const res = await create({ model: MODEL, input: PROMPT, previous_response_id: 'resp_0123456789abcdef01234567' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorEnvelope).error).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found' });
    expect(emu.requests()).toEqual([]);
  });

  it('item_reference items bring back output items of a stored response', async () => {
    const first = (await (await create({ model: MODEL, input: 'Hi there' })).json()) as ResponseObject;
    emu.reset();
    const input = [
      { role: 'user', content: 'Hi there' },
      { type: 'item_reference', id: first.output[0]!.id },
      { role: 'user', content: 'Again' },
    ];
    expect((await create({ model: MODEL, input })).status).toBe(200);
    expect(upstreamBody(emu.requests('deepinfra')[0]!).messages[1]).toEqual({ role: 'assistant', content: textOf(first) });
    const missing = await create({ model: MODEL, input: [{ type: 'item_reference', id: 'msg_nope' }] });
    expect(missing.status).toBe(404);
  });

  it('belong to the key that made them: another key reads, deletes and continues nothing', async () => {
    const created = (await (await create({ model: MODEL, input: PROMPT }, bearer(KEY_A), keyed)).json()) as ResponseObject;
    expect((await retrieve(created.id, bearer(KEY_A), keyed)).status).toBe(200);
    expect((await retrieve(created.id, bearer(KEY_B), keyed)).status).toBe(404);
    expect((await remove(created.id, bearer(KEY_B), keyed)).status).toBe(404);
    expect((await create({ model: MODEL, input: PROMPT, previous_response_id: created.id }, bearer(KEY_B), keyed)).status).toBe(400);
    expect((await retrieve(created.id, {}, keyed)).status).toBe(401);
    expect((await retrieve(created.id, bearer(KEY_A), keyed)).status).toBe(200);
  });
});

describe('input items', () => {
  const items = (id: string, query = '', headers: Record<string, string> = {}, on = gw) =>
    fetch(`${on.baseURL}/responses/${id}/input_items${query}`, { headers });
  interface ItemList {
    object: string;
    data: Array<{
      id: string;
      type: string;
      role?: string;
      content?: Array<{ type: string; text?: string; image_url?: string }>;
      call_id?: string;
      output?: string;
    }>;
    first_id: string;
    last_id: string;
    has_more: boolean;
  }

  it("lists this request's input as OpenAI's item resources, newest first, and pages with limit, order and after", async () => {
    const first = (await (await create({ model: MODEL, input: 'What is the weather in Paris?', tools: [WEATHER_TOOL] })).json()) as ResponseObject;
    const call = first.output[0]!;
    const input = [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'input_text', text: 'What is the weather in Paris?' }] },
      { type: 'function_call', call_id: call.call_id, name: 'get_weather', arguments: TOOL_ARGUMENTS },
      { type: 'function_call_output', call_id: call.call_id, output: '{"temperature":21}' },
    ];
    const second = (await (await create({ model: MODEL, input, tools: [WEATHER_TOOL], previous_response_id: first.id })).json()) as ResponseObject;

    const res = await items(second.id);
    expect(res.status).toBe(200);
    const list = (await res.json()) as ItemList;
    expectSchema('ResponseItemList', list);
    // This request's items only (not the earlier turn's), newest first.
    expect(list.data.map((i) => i.type)).toEqual(['function_call_output', 'function_call', 'message', 'message']);
    expect(list.data[0]).toMatchObject({ call_id: call.call_id, output: '{"temperature":21}', status: 'completed' });
    expect(list.data[3]).toMatchObject({ role: 'developer', content: [{ type: 'input_text', text: 'Be brief.' }] });
    expect(new Set(list.data.map((i) => i.id)).size).toBe(4);
    expect(list).toMatchObject({ object: 'list', first_id: list.data[0]!.id, last_id: list.data[3]!.id, has_more: false });

    const asc = (await (await items(second.id, '?order=asc&limit=2')).json()) as ItemList;
    expect(asc.data.map((i) => i.type)).toEqual(['message', 'message']);
    expect(asc.has_more).toBe(true);
    const rest = (await (await items(second.id, `?order=asc&limit=2&after=${asc.last_id}`)).json()) as ItemList;
    expect(rest.data.map((i) => i.type)).toEqual(['function_call', 'function_call_output']);
    expect(rest.has_more).toBe(false);

    const plain = (await (await items(first.id)).json()) as ItemList;
    expect(plain.data).toEqual([
      { id: expect.any(String), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'What is the weather in Paris?' }] },
    ]);
  });

  it('refuses a bad page in the OpenAI envelope, and is a 404 for a response it cannot read', async () => {
    const created = (await (await create({ model: MODEL, input: PROMPT })).json()) as ResponseObject;
    for (const [query, param] of [
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=abc', 'limit'],
      ['?order=up', 'order'],
      ['?after=msg_nope', 'after'],
      ['?after=a&after=b', 'after'],
    ] as const) {
      const res = await items(created.id, query);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorEnvelope).error).toMatchObject({ type: 'invalid_request_error', param });
    }
    expect((await items('resp_0123456789abcdef01234567')).status).toBe(404);
    const keyedOne = (await (await create({ model: MODEL, input: PROMPT }, bearer(KEY_A), keyed)).json()) as ResponseObject;
    expect((await items(keyedOne.id, '', bearer(KEY_A), keyed)).status).toBe(200);
    expect((await items(keyedOne.id, '', bearer(KEY_B), keyed)).status).toBe(404);
    const unstored = (await (await create({ model: MODEL, input: PROMPT, store: false })).json()) as ResponseObject;
    expect((await items(unstored.id)).status).toBe(404);
  });
});

describe('refusals before any upstream is called', () => {
  it.each([
    ['a hosted tool', { tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    ['a file input', { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] }, 'input[0].content[0].type'],
    ['an unknown item type', { input: [{ type: 'computer_call_output', call_id: 'c' }] }, 'input[0].type'],
    ['a hosted tool choice', { tool_choice: { type: 'web_search_preview' } }, 'tool_choice'],
    ['an unknown text format', { text: { format: { type: 'grammar' } } }, 'text.format.type'],
    ['no input at all', { input: [] }, 'input'],
    ['a function call without a name', { input: [{ type: 'function_call', call_id: 'c', arguments: '{}' }] }, 'input[0].name'],
  ])('%s is a 400 naming the param', async (_, fields, param) => {
    const res = await create({ model: MODEL, input: PROMPT, ...fields });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorEnvelope;
    expectSchema('ErrorResponse', body);
    expect(body.error.param).toBe(param);
    expect(emu.requests()).toEqual([]);
  });

  it('a bad field type is a 400 from validation', async () => {
    const res = await create({ model: MODEL, input: 42 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorEnvelope).error.message).toMatch(/input/);
  });

  it('an unknown model is a 404, as on chat', async () => {
    const res = await create({ model: 'no-such-model', input: PROMPT });
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorEnvelope).error.code).toBe('model_not_found');
  });
});

describe('failover', () => {
  it.each([false, true])('stream=%s: a failure before the first byte moves on to the next provider, unseen', async (stream) => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
    const res = await create({ model: MODEL, input: PROMPT, stream });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    const text = answerText('together', TOGETHER_UPSTREAM, PROMPT);
    if (!stream) return expect(textOf((await res.json()) as ResponseObject)).toBe(text);
    const events = await readEvents(res);
    expectWellFormed(events);
    expect(textOf(events.at(-1)!.data.response as ResponseObject)).toBe(text);
  });

  it('every route failing before the first byte is an HTTP error in the OpenAI envelope, even for a stream', async () => {
    for (const provider of ['deepinfra', 'together', 'huggingface', 'pollinations', 'cloudflare'] as const)
      emu.addFault({ provider, mode: 'status', status: 500 });
    const res = await create({ model: MODEL, input: PROMPT, stream: true });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expectSchema('ErrorResponse', await res.json());
  });

  it('a failure after the first byte ends the stream with response.failed: no failover, no second provider, nothing stored', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const res = await create({ model: MODEL, input: PROMPT, stream: true });
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    expectWellFormed(events);
    const last = events.at(-1)!.data;
    expect(last.type).toBe('response.failed');
    const failed = last.response as ResponseObject;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'server_error', message: expect.stringContaining('DeepInfra') });
    expect(types(events)).not.toContain('response.completed');
    const text = events
      .filter((e) => e.data.type === 'response.output_text.delta')
      .map((e) => e.data.delta)
      .join('');
    expect(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT).startsWith(text)).toBe(true);
    expect(emu.requests('together')).toEqual([]);
    expect((await retrieve(failed.id)).status).toBe(404);
  });
});

describe('cluster mode (REDIS_URL): replicas share stored responses, which expire in Redis', () => {
  const TTL_SECONDS = 120;
  let redis: RedisServer;
  let replicas: Gateway[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, SECRET_KEY: 'responses-cluster-secret', RESPONSES_TTL_SECONDS: String(TTL_SECONDS) };
    replicas = [await startGateway(emu, env), await startGateway(emu, env)];
  }, 30_000);

  afterAll(async () => {
    for (const r of replicas) await r.close();
    await redis?.close();
  });

  it('a response made on one replica is read, continued and deleted on the other', async () => {
    const [one, two] = replicas as [Gateway, Gateway];
    const created = (await (await create({ model: MODEL, provider: 'DeepInfra', input: 'I live in Lyon.' }, {}, one)).json()) as ResponseObject;
    const ttl = await redis.client().pttl(`g4f:response:${created.id}`);
    expect(ttl).toBeGreaterThan((TTL_SECONDS - 10) * 1000);
    expect(ttl).toBeLessThanOrEqual(TTL_SECONDS * 1000);
    expect(await (await retrieve(created.id, {}, two)).json()).toEqual(created);

    emu.reset();
    const next = await create({ model: MODEL, provider: 'DeepInfra', input: 'Where do I live?', previous_response_id: created.id }, {}, two);
    expect(next.status).toBe(200);
    expect(upstreamBody(emu.requests('deepinfra')[0]!).messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);

    expect((await remove(created.id, {}, two)).status).toBe(200);
    expect((await retrieve(created.id, {}, one)).status).toBe(404);
  });

  it('store: false writes nothing to Redis', async () => {
    const created = (await (await create({ model: MODEL, provider: 'DeepInfra', input: PROMPT, store: false }, {}, replicas[0])).json()) as ResponseObject;
    expect(await redis.client().exists(`g4f:response:${created.id}`)).toBe(0);
  });
});
