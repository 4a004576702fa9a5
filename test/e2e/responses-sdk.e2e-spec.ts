/**
 * The clients that speak the Responses API, unchanged, pointed at the gateway: the official
 * `openai` SDK (responses.create stream and not, a tools round trip with function_call_output,
 * previous_response_id, the responses.stream helper) and the Vercel AI SDK's default OpenAI
 * provider (`openai(model)` calls /v1/responses): generateText, streamText, tools.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, isStepCount, jsonSchema, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { TOOL_ARGUMENTS, answerText } from '../emulators/answers.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { startGateway, type Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const PROVIDER = 'DeepInfra';
const UPSTREAM = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const expected = (prompt: string) => answerText('deepinfra', UPSTREAM, prompt);

let emu: Emulator;
let gw: Gateway;
let client: OpenAI;

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

const upstreamMessages = () => (emu.requests('deepinfra').at(-1)!.body as { messages: unknown[] }).messages;

/** The gateway's extension field, which the SDKs pass through as an extra body field. */
const forced = { provider: PROVIDER } as Record<string, unknown>;

describe('openai SDK', () => {
  it('responses.create: output_text, id and usage', async () => {
    const response = await client.responses.create({ model: MODEL, input: 'Hello there', ...forced });
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe(expected('Hello there'));
    expect(response.usage!.total_tokens).toBeGreaterThan(0);
  });

  it('responses.create with stream: typed events, in order, ending with response.completed', async () => {
    const stream = await client.responses.create({ model: MODEL, input: 'Stream to me', stream: true, ...forced });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events[0]!.type).toBe('response.created');
    expect(events.at(-1)!.type).toBe('response.completed');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    expect(text).toBe(expected('Stream to me'));
  });

  it('the responses.stream helper: delta events and the final response', async () => {
    const deltas: string[] = [];
    const stream = client.responses.stream({ model: MODEL, input: 'Help me stream', ...forced });
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe(expected('Help me stream'));
    expect(final.output_text).toBe(expected('Help me stream'));
    expect(final.status).toBe('completed');
  });

  it('a tools round trip: function_call, then function_call_output with previous_response_id', async () => {
    const tools: OpenAI.Responses.Tool[] = [
      { type: 'function', name: 'get_weather', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    ];
    const first = await client.responses.create({ model: MODEL, input: 'What is the weather in Paris?', tools, ...forced });
    const call = first.output.find((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'get_weather', arguments: TOOL_ARGUMENTS });

    const second = await client.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call!.call_id, output: '{"celsius":21}' }],
      tools,
      ...forced,
    });
    expect(second.output_text).toBe(expected('What is the weather in Paris?'));
    expect(upstreamMessages()).toEqual([
      { role: 'user', content: 'What is the weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: call!.call_id, type: 'function', function: { name: 'get_weather', arguments: TOOL_ARGUMENTS } }] },
      { role: 'tool', tool_call_id: call!.call_id, content: '{"celsius":21}' },
    ]);
  });

  it('previous_response_id, retrieve, input items and delete', async () => {
    const first = await client.responses.create({ model: MODEL, input: 'Remember 42', instructions: 'Be terse.', ...forced });
    const second = await client.responses.create({ model: MODEL, input: 'What number?', previous_response_id: first.id, ...forced });
    expect(upstreamMessages()).toEqual([
      { role: 'user', content: 'Remember 42' },
      { role: 'assistant', content: first.output_text },
      { role: 'user', content: 'What number?' },
    ]);
    const retrieved = await client.responses.retrieve(second.id);
    expect(retrieved.id).toBe(second.id);
    expect(retrieved.output_text).toBe(second.output_text);
    const items = [];
    for await (const item of client.responses.inputItems.list(second.id, { order: 'asc' })) items.push(item);
    expect(items).toEqual([
      { id: expect.any(String), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'What number?' }] },
    ]);
    await client.responses.delete(second.id);
    await expect(client.responses.retrieve(second.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('errors are the SDK’s typed errors', async () => {
    await expect(client.responses.create({ model: 'no-such-model', input: 'hi' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.create({ model: MODEL, input: 'hi', tools: [{ type: 'web_search' }] })).rejects.toMatchObject({
      status: 400,
      param: 'tools[0].type',
    });
  });
});

describe('Vercel AI SDK, default provider openai(model) (the Responses API)', () => {
  /** Extra body fields go through the provider's fetch: the gateway is pinned to one provider for determinism. */
  const openai = () =>
    createOpenAI({
      baseURL: gw.baseURL,
      apiKey: 'x',
      fetch: async (url, init) => {
        const body = typeof init?.body === 'string' ? JSON.stringify({ ...JSON.parse(init.body), provider: PROVIDER }) : init?.body;
        return fetch(url, { ...init, body });
      },
    });

  it('generateText', async () => {
    const result = await generateText({ model: openai()(MODEL), prompt: 'Hi from the AI SDK' });
    expect(result.text).toBe(expected('Hi from the AI SDK'));
    expect(result.finishReason).toBe('stop');
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(emu.requests('deepinfra')).toHaveLength(1);
  });

  it('streamText', async () => {
    const result = streamText({ model: openai()(MODEL), prompt: 'Stream from the AI SDK' });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    expect(text).toBe(expected('Stream from the AI SDK'));
    expect(await result.finishReason).toBe('stop');
  });

  it('tools: the call is executed and its result answered, over several steps', async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: openai()(MODEL),
      prompt: 'What is the weather in Paris?',
      tools: {
        get_weather: tool({
          description: 'Current weather in a city',
          inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
          execute: async (input) => {
            calls.push(input);
            return { celsius: 21 };
          },
        }),
      },
      stopWhen: isStepCount(3),
    });
    expect(calls).toEqual([JSON.parse(TOOL_ARGUMENTS)]);
    expect(result.steps).toHaveLength(2);
    expect(result.text).toBe(expected('What is the weather in Paris?'));
    // The second step sent the call and its result back (the call as an item, its output as a tool message).
    const messages = upstreamMessages() as { role: string; tool_call_id?: string; content: unknown }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(JSON.parse(String(messages[2]!.content))).toEqual({ celsius: 21 });
  });
});
