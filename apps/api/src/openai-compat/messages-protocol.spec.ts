import type { ChatCompletionRequest, Usage } from '#contracts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import { ChatAccumulator } from './chat-accumulator.ts';
import type { ChatStart } from './chat.service.ts';
import { messagesProtocol } from './messages-protocol.ts';
import type { SseWriter } from './sse-writer.ts';

const body: ChatCompletionRequest = { model: 'claude-test', messages: [{ role: 'user', content: 'Hi' }], stream: true };
const start: ChatStart = { type: 'start', provider: 'DeepInfra', upstreamModel: 'up', keyId: 'k', ttftMs: 1 };
/** As with RESPONSE_MODEL=served: the answer names the upstream model that served. */
const servedModel = (s: ChatStart) => s.upstreamModel;
const usage: Usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };

interface Sent {
  event: string | undefined;
  data: { type: string; index?: number; delta?: Record<string, unknown>; content_block?: Record<string, unknown> };
}

/** Runs events through a stream encoder; the writer records what it is given (the socket is not what this is about). */
function stream(events: ChatEvent[]): { sent: Sent[]; ended: boolean } {
  const sent: Sent[] = [];
  let ended = false;
  const writer = {
    send: (data: Sent['data'], event?: string) => sent.push({ event, data: JSON.parse(JSON.stringify(data)) as Sent['data'] }),
    end: () => (ended = true),
  } as unknown as SseWriter;
  const encoder = messagesProtocol(body, servedModel).encoder(writer);
  const acc = new ChatAccumulator();
  encoder.open(start);
  for (const e of events) {
    acc.add(e);
    encoder.event(e, acc);
  }
  encoder.complete(acc, () => usage);
  return { sent, ended };
}

const tool = (index: number, fn: { name?: string; arguments?: string }, id?: string): ChatEvent => ({
  type: 'delta',
  toolCalls: [{ index, ...(id ? { id } : {}), function: fn }],
});
const json = (sent: Sent[], index: number) =>
  sent
    .filter((s) => s.data.type === 'content_block_delta' && s.data.index === index)
    .map((s) => s.data.delta!.partial_json)
    .join('');

describe('the Messages stream encoder', () => {
  it('names every event after its type and ends with message_stop', () => {
    const { sent, ended } = stream([
      { type: 'delta', content: 'Hello' },
      { type: 'finish', reason: 'stop' },
    ]);
    for (const s of sent) expect(s.event).toBe(s.data.type);
    expect(sent.map((s) => s.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(ended).toBe(true);
  });

  it('holds a tool call’s arguments until its name is known, then starts its block with them', () => {
    const { sent } = stream([tool(0, { arguments: '{"ci' }, 'call_1'), tool(0, { name: 'get_weather' }), tool(0, { arguments: 'ty":"Paris"}' })]);
    const starts = sent.filter((s) => s.data.type === 'content_block_start');
    expect(starts.map((s) => s.data.content_block)).toEqual([{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} }]);
    expect(JSON.parse(json(sent, 0))).toEqual({ city: 'Paris' });
    expect(sent.find((s) => s.data.type === 'message_delta')!.data.delta).toEqual({ stop_reason: 'tool_use', stop_sequence: null });
  });

  it('keeps interleaved parallel tool calls apart, each in its own block, and stops them in order', () => {
    const { sent } = stream([
      tool(0, { name: 'a', arguments: '{"x":' }, 'call_a'),
      tool(1, { name: 'b', arguments: '{"y":' }, 'call_b'),
      tool(0, { arguments: '1}' }),
      tool(1, { arguments: '2}' }),
    ]);
    expect(JSON.parse(json(sent, 0))).toEqual({ x: 1 });
    expect(JSON.parse(json(sent, 1))).toEqual({ y: 2 });
    const stops = sent.filter((s) => s.data.type === 'content_block_stop').map((s) => s.data.index);
    expect(stops).toEqual([0, 1]);
  });

  it('gives a tool call without an upstream id one of its own', () => {
    const { sent } = stream([tool(0, { name: 'a', arguments: '{}' })]);
    expect(sent.find((s) => s.data.type === 'content_block_start')!.data.content_block!.id).toMatch(/^toolu_[\w-]+$/);
  });

  it('stops the text block before a tool block starts, and a thinking block before text', () => {
    const { sent } = stream([{ type: 'delta', reasoning: 'Hmm' }, { type: 'delta', content: 'Let me check.' }, tool(0, { name: 'a', arguments: '{}' })]);
    const blocks = sent.filter((s) => /^content_block_(start|stop)$/.test(s.data.type)).map((s) => `${s.data.type.slice(14)}${s.data.index}`);
    expect(blocks).toEqual(['start0', 'stop0', 'start1', 'stop1', 'start2', 'stop2']);
  });

  it('ends a failed stream with an error event and nothing after it', () => {
    const sent: Sent[] = [];
    const writer = { send: (data: Sent['data'], event?: string) => sent.push({ event, data }), end: () => undefined } as unknown as SseWriter;
    const encoder = messagesProtocol(body, servedModel).encoder(writer);
    encoder.open(start);
    encoder.event({ type: 'delta', content: 'Hel' }, new ChatAccumulator());
    encoder.error({ message: 'The upstream provider DeepInfra failed mid-stream: reset', type: 'upstream_error', code: 'stream_interrupted' });
    expect(sent.at(-1)).toEqual({
      event: 'error',
      data: { type: 'error', error: { type: 'api_error', message: 'The upstream provider DeepInfra failed mid-stream: reset' } },
    });
  });
});

describe('the non-stream message', () => {
  it('orders thinking, text and tool_use blocks, keeps arguments that are not an object under _raw', () => {
    const acc = new ChatAccumulator();
    acc.add({ type: 'delta', reasoning: 'Hmm', content: 'Checking.' });
    acc.add(tool(0, { name: 'a', arguments: '{"x":1}' }, 'call_a'));
    acc.add(tool(1, { name: 'b', arguments: 'not json' }, 'call_b'));
    acc.add({ type: 'finish', reason: 'tool_calls' });
    const message = messagesProtocol(body, servedModel).answer(start, acc, usage) as { content: unknown[]; stop_reason: string; usage: unknown };
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Hmm', signature: '' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'call_a', name: 'a', input: { x: 1 } },
      { type: 'tool_use', id: 'call_b', name: 'b', input: { _raw: 'not json' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toEqual({ input_tokens: 7, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });
});
