/**
 * Capability-aware routing (issue 13): a request that needs tools, JSON mode, stop sequences or
 * reasoning goes only to routes whose mapping carries them, and is a 400 naming the feature and
 * the model when none can; never an answer without it. Cloudflare Workers AI maps native function
 * calling and JSON mode on the models documented for them, over the emulator's native wire.
 */
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';

/** Cloudflare first, so that only capabilities keep a request away from it. */
const ENV = {
  ROUTING_STRATEGY: 'priority',
  CLOUDFLARE_PRIORITY: '1',
  TOGETHER_PRIORITY: '2',
  DEEPINFRA_PRIORITY: '3',
  BREAKER_FAILURE_THRESHOLD: '1000',
};

const WEATHER = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];
const ASK = [{ role: 'user', content: 'What is the weather in Paris?' }];
const SCOUT_CF = '@cf/meta/llama-4-scout-17b-16e-instruct';

interface ToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}
interface Completion {
  model: string;
  choices: Array<{ message: { content: string | null; tool_calls?: ToolCall[] }; finish_reason: string }>;
}
interface Chunk {
  choices: Array<{ delta: { content?: string; tool_calls?: Array<ToolCall & { index: number }> }; finish_reason: string | null }>;
}
interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

let emu: Emulator;
let gw: Gateway;
beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu, ENV);
});
afterAll(async () => {
  await gw.close();
  await emu.close();
});
beforeEach(() => emu.reset());

const chat = (body: Record<string, unknown>) => postJson(`${gw.baseURL}/chat/completions`, body, { authorization: 'Bearer x' });
const sentTo = (provider: Parameters<Emulator['requests']>[0]) => emu.requests(provider).map((r) => r.body as Record<string, unknown>);

async function refused(body: Record<string, unknown>): Promise<ErrorBody['error']> {
  const res = await chat(body);
  expect(res.status).toBe(400);
  return ((await res.json()) as ErrorBody).error;
}

describe('Cloudflare tool calling', () => {
  it('non-stream: native tools out, an OpenAI tool call back with a synthesized id and string arguments', async () => {
    const res = await chat({ model: 'llama-4-scout', provider: 'CloudflareAI', messages: ASK, tools: WEATHER, tool_choice: 'auto' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-upstream-model')).toBe(SCOUT_CF);
    const choice = ((await res.json()) as Completion).choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      { id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
    const [sent] = sentTo('cloudflare');
    expect(sent!.tools).toEqual([WEATHER[0]!.function]);
    expect(sent).not.toHaveProperty('tool_choice');
  });

  it('round trip: the tool result goes back as a `tool` message and the model answers in text', async () => {
    const first = (await (await chat({ model: 'llama-4-scout', provider: 'CloudflareAI', messages: ASK, tools: WEATHER })).json()) as Completion;
    const call = first.choices[0]!.message.tool_calls![0]!;
    emu.reset();
    const res = await chat({
      model: 'llama-4-scout',
      provider: 'CloudflareAI',
      tools: WEATHER,
      messages: [...ASK, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21}' }],
    });
    expect(res.status).toBe(200);
    const choice = ((await res.json()) as Completion).choices[0]!;
    expect(choice.finish_reason).toBe('stop');
    expect(choice.message.content).toContain('Hello from cloudflare');
    expect(sentTo('cloudflare')[0]!.messages).toEqual([
      ASK[0],
      { role: 'assistant', content: '[{"name":"get_weather","arguments":{"city":"Paris"}}]' },
      { role: 'tool', content: '{"temp_c":21}' },
    ]);
  });

  it('stream: asked of the upstream whole, replayed as OpenAI chunks with the tool call and finish_reason tool_calls', async () => {
    const res = await chat({ model: 'llama-4-scout', provider: 'CloudflareAI', messages: ASK, tools: WEATHER, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1) as Chunk[];
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(sentTo('cloudflare')[0]!.stream).toBe(false);
  });

  it('JSON mode: the object Workers AI answers with comes back as JSON text, streamed too', async () => {
    const res = await chat({ model: 'llama-2-7b', messages: [{ role: 'user', content: 'ping' }], response_format: { type: 'json_object' } });
    expect(res.status).toBe(200);
    const content = ((await res.json()) as Completion).choices[0]!.message.content!;
    expect(JSON.parse(content)).toEqual({ answer: expect.stringContaining('ping') });
    const streamed = await chat({
      model: 'llama-2-7b',
      stream: true,
      messages: [{ role: 'user', content: 'ping' }],
      response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object', properties: { answer: { type: 'string' } } } } },
    });
    const text = ((await readSse(streamed)).slice(0, -1) as Chunk[]).map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(JSON.parse(text)).toEqual({ answer: expect.stringContaining('ping') });
    expect(sentTo('cloudflare')[1]).toMatchObject({ stream: false, response_format: { type: 'json_schema', json_schema: { type: 'object' } } });
  });
});

describe('routing by capability', () => {
  it('a request with tools never lands on a route that would drop them while another route can serve it', async () => {
    // Without tools Cloudflare (priority 1) serves mistral-7b; with them only Together can.
    expect((await chat({ model: 'mistral-7b', messages: ASK })).headers.get('x-pool-provider')).toBe('CloudflareAI');
    emu.reset();
    for (const stream of [false, true]) {
      const res = await chat({ model: 'mistral-7b', messages: ASK, tools: WEATHER, stream });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-pool-provider')).toBe('Together');
      await res.arrayBuffer();
    }
    expect(sentTo('cloudflare')).toEqual([]);
    expect(sentTo('together').every((b) => Array.isArray(b.tools))).toBe(true);
  });

  it('stop sequences and a history with tool turns are kept away from Cloudflare the same way', async () => {
    const stop = await chat({ model: 'mistral-7b', messages: ASK, stop: ['END'] });
    expect(stop.headers.get('x-pool-provider')).toBe('Together');
    const history = await chat({
      model: 'mistral-7b',
      messages: [
        ...ASK,
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '21' },
      ],
    });
    expect(history.headers.get('x-pool-provider')).toBe('Together');
    expect(sentTo('cloudflare')).toEqual([]);
  });

  it('no route can: a 400 naming the feature and the model, and nothing is sent upstream', async () => {
    expect(await refused({ model: 'llama-2-7b', messages: ASK, tools: WEATHER })).toMatchObject({
      type: 'invalid_request_error',
      code: 'tools_not_supported',
      param: 'tools',
      message: expect.stringContaining('`llama-2-7b`'),
    });
    expect(await refused({ model: 'llama-2-7b', messages: ASK, stop: 'END' })).toMatchObject({ code: 'stop_not_supported', param: 'stop' });
    expect(await refused({ model: 'llama-2-7b', messages: ASK, reasoning_effort: 'high' })).toMatchObject({ code: 'reasoning_not_supported' });
    expect(await refused({ model: 'qwen-1.5-7b', messages: ASK, response_format: { type: 'json_object' } })).toMatchObject({
      code: 'response_format_not_supported',
      param: 'response_format',
    });
    expect(await refused({ model: 'llama-4-scout', provider: 'CloudflareAI', messages: ASK, tools: WEATHER, tool_choice: 'required' })).toMatchObject({
      code: 'tool_choice_not_supported',
      message: expect.stringContaining('drop the `provider` field'),
    });
    const stream = await chat({ model: 'llama-2-7b', messages: ASK, tools: WEATHER, stream: true });
    expect(stream.status).toBe(400);
    expect(stream.headers.get('content-type')).toMatch(/application\/json/);
    expect(emu.requests()).toEqual([]);
  });

  it('a forced provider that cannot honour a feature another route can: the 400 says to drop `provider`', async () => {
    const err = await refused({ model: 'llama-3.1-8b', provider: 'CloudflareAI', messages: ASK, tools: WEATHER });
    expect(err).toMatchObject({ code: 'tools_not_supported', param: 'tools' });
    expect(err.message).toContain('Provider `CloudflareAI` cannot honour tool calling');
    expect(emu.requests()).toEqual([]);
  });

  it('what every route passes through is not filtered: tools on an OpenAI-compatible route, tool_choice "none" on Cloudflare', async () => {
    const res = await chat({ model: 'llama-3.3-70b', messages: ASK, tools: WEATHER, tool_choice: 'required' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Completion).choices[0]!.finish_reason).toBe('tool_calls');
    const none = await chat({ model: 'llama-4-scout', provider: 'CloudflareAI', messages: ASK, tools: WEATHER, tool_choice: 'none' });
    expect(none.status).toBe(200);
    expect(sentTo('cloudflare').at(-1)).not.toHaveProperty('tools');
  });
});
