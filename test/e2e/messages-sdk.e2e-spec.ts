/**
 * The clients that speak Anthropic's Messages API, unchanged, with their base URL at the gateway:
 * the official `@anthropic-ai/sdk` (create, stream, the messages.stream helper, tools with a
 * tool_result round trip, countTokens, typed errors) and the Vercel AI SDK's `@ai-sdk/anthropic`
 * (generateText, streamText, a tool loop).
 */
import Anthropic, { AuthenticationError, BadRequestError, NotFoundError } from '@anthropic-ai/sdk';
import { createAnthropic } from '@ai-sdk/anthropic';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { REASONING_TEXT, TOOL_ARGUMENTS, answerText } from '../emulators/answers.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { startGateway, type Gateway } from '../support/gateway.ts';

const KEY = 'sk-messages-sdk-key';
const MODEL = 'llama-3.3-70b';
const UPSTREAM = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const PROMPT = 'Say hello to the pool';
const WEATHER_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let emu: Emulator;
let gw: Gateway;
let client: Anthropic;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  // DeepInfra first: its emulator speaks OpenAI's wire, tool calls and reasoning included.
  gw = await startGateway(emu, { API_KEY: KEY, ROUTING_STRATEGY: 'priority', DEEPINFRA_PRIORITY: '1', TOGETHER_PRIORITY: '2' });
  client = new Anthropic({ apiKey: KEY, baseURL: gw.url, maxRetries: 0, timeout: 10_000 });
});

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

afterEach(() => emu.reset());

const expected = answerText('deepinfra', UPSTREAM, PROMPT);
const user = (content: string): Anthropic.MessageParam[] => [{ role: 'user', content }];

describe('@anthropic-ai/sdk', () => {
  it('messages.create: a text answer', async () => {
    const message = await client.messages.create({ model: MODEL, max_tokens: 256, messages: user(PROMPT) });
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    // The model that served (RESPONSE_MODEL=served, the default), as on chat.
    expect(message.model).toBe(UPSTREAM);
    expect(message.content).toEqual([{ type: 'text', text: expected }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    // The gateway's request id, where Anthropic's SDK looks for one.
    expect(message._request_id).toMatch(/^req_/);
  });

  it('messages.create with stream: true: the events add up to the answer', async () => {
    const stream = await client.messages.create({ model: MODEL, max_tokens: 256, messages: user(PROMPT), stream: true });
    const kinds: string[] = [];
    let text = '';
    for await (const event of stream) {
      kinds.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    expect(text).toBe(expected);
    expect(kinds[0]).toBe('message_start');
    expect(kinds.at(-1)).toBe('message_stop');
  });

  it('the messages.stream helper: text events and the final message', async () => {
    const pieces: string[] = [];
    const stream = client.messages.stream({ model: MODEL, max_tokens: 256, system: 'Be brief.', messages: user(PROMPT) });
    stream.on('text', (t) => pieces.push(t));
    const final = await stream.finalMessage();
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(expected);
    expect(final.content).toEqual([expect.objectContaining({ type: 'text', text: expected })]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('a reasoning model: the helper’s final message has a thinking block', async () => {
    const final = await client.messages
      .stream({ model: 'deepseek-r1', max_tokens: 256, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: user(PROMPT) })
      .finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: REASONING_TEXT });
  });

  it.each([false, true])('tools: tool_use, then the tool_result gets a text answer (stream: %s)', async (stream) => {
    const messages: Anthropic.MessageParam[] = user('What is the weather in Paris?');
    const first = stream
      ? await client.messages.stream({ model: MODEL, max_tokens: 256, messages, tools: [WEATHER_TOOL] }).finalMessage()
      : await client.messages.create({ model: MODEL, max_tokens: 256, messages, tools: [WEATHER_TOOL] });
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(call).toMatchObject({ name: 'get_weather', input: JSON.parse(TOOL_ARGUMENTS) });

    messages.push(
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: call!.id, content: '21°C, sunny' }] },
    );
    const second = await client.messages.create({ model: MODEL, max_tokens: 256, messages, tools: [WEATHER_TOOL] });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]!.type).toBe('text');
    const sent = emu.requests('deepinfra').at(-1)!.body as { messages: { role: string; tool_call_id?: string; content: unknown }[] };
    expect(sent.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: call!.id, content: '21°C, sunny' });
  });

  it('countTokens: input_tokens grows with the prompt', async () => {
    const short = await client.messages.countTokens({ model: MODEL, messages: user('Hi') });
    const long = await client.messages.countTokens({
      model: MODEL,
      messages: user('Hi, tell me everything about the weather in Paris.'),
      tools: [WEATHER_TOOL],
    });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
  });

  it('typed errors: NotFoundError, AuthenticationError, BadRequestError, with Anthropic’s error body', async () => {
    const unknown = await client.messages.create({ model: 'no-such-model', max_tokens: 16, messages: user('hi') }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect((unknown as NotFoundError).status).toBe(404);
    expect((unknown as NotFoundError).requestID).toMatch(/^req_/);
    expect((unknown as NotFoundError).error).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: expect.stringContaining('no-such-model') },
      request_id: expect.stringMatching(/^req_/),
    });

    const stranger = new Anthropic({ apiKey: 'sk-wrong', baseURL: gw.url, maxRetries: 0 });
    await expect(stranger.messages.create({ model: MODEL, max_tokens: 16, messages: user('hi') })).rejects.toBeInstanceOf(AuthenticationError);
    await expect(stranger.messages.countTokens({ model: MODEL, messages: user('hi') })).rejects.toBeInstanceOf(AuthenticationError);

    const bad = await client.messages
      .create({ model: MODEL, max_tokens: 16, messages: user('hi'), stop_sequences: ['a', 'b', 'c', 'd', 'e'] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).message).toContain('stop_sequences');
  });

  it('a failure after the first byte reaches the stream’s reader as an error', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const stream = client.messages.stream({ model: MODEL, max_tokens: 256, messages: user(PROMPT) });
    await expect(stream.finalMessage()).rejects.toThrow(/DeepInfra failed mid-stream/);
  });
});

describe('@ai-sdk/anthropic (Vercel AI SDK) with baseURL', () => {
  const anthropic = () => createAnthropic({ baseURL: `${gw.url}/v1`, apiKey: KEY });

  it('generateText', async () => {
    const result = await generateText({ model: anthropic()(MODEL), prompt: PROMPT, maxRetries: 0 });
    expect(result.text).toBe(expected);
    expect(result.finishReason).toBe('stop');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
  });

  it('streamText', async () => {
    const result = streamText({ model: anthropic()(MODEL), prompt: PROMPT, maxRetries: 0 });
    const pieces: string[] = [];
    for await (const piece of result.textStream) pieces.push(piece);
    expect(pieces.join('')).toBe(expected);
    expect(await result.finishReason).toBe('stop');
  });

  it('a tool loop: the tool runs, its result goes back, the model answers in text', async () => {
    const executed: unknown[] = [];
    const weather = tool({
      description: 'Current weather in a city',
      inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
      execute: (input) => {
        executed.push(input);
        return Promise.resolve('21°C, sunny');
      },
    });
    const result = await generateText({
      model: anthropic()(MODEL),
      prompt: 'What is the weather in Paris?',
      tools: { get_weather: weather },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    expect(executed).toEqual([JSON.parse(TOOL_ARGUMENTS)]);
    expect(result.steps).toHaveLength(2);
    expect(result.finishReason).toBe('stop');
    expect(result.text.length).toBeGreaterThan(0);
  });
});
