import type { Usage } from '#contracts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import type { AnswerProtocol, StreamEncoder, StreamFailure } from './answer-protocol.ts';
import type { ChatAccumulator } from './chat-accumulator.ts';
import {
  finishResponse,
  functionCallItem,
  messageItem,
  outcomeOf,
  outputText,
  reasoningItem,
  type FunctionCallItem,
  type ItemStatus,
  type MessageItem,
  type OutputItem,
  type ReasoningItem,
  type ResponseIds,
  type ResponseObject,
} from './responses-output.ts';
import type { SseWriter } from './sse-writer.ts';
import type { ChatStart } from './chat.service.ts';

/** Called once with a response that finished (completed or incomplete), to store it; `json` is its JSON text when a stream already made it. */
export type OnFinished = (response: ResponseObject, json?: string) => void;

/** A whole answer's output in the order OpenAI gives it: reasoning, the message, then the calls. */
function outputOf(acc: ChatAccumulator, ids: ResponseIds): OutputItem[] {
  const status = outcomeOf(acc.finish).status === 'completed' ? 'completed' : 'incomplete';
  const output: OutputItem[] = [];
  if (acc.reasoning) output.push(reasoningItem(ids.item('reasoning'), acc.reasoning, 'completed'));
  if (acc.content) output.push(messageItem(ids.item('message'), acc.content, status));
  acc.calls.forEach((call, i) => output.push(functionCallItem(ids.item('function_call'), call, call.id || ids.call(i), 'completed')));
  return output;
}

/**
 * OpenAI's Responses API: a `response` object, or its typed events (`response.created` …
 * `response.completed`), each with a `sequence_number`. `base` is the response as created
 * (status in_progress, the request's settings echoed).
 */
export function responsesProtocol(base: ResponseObject, ids: ResponseIds, finished: OnFinished, modelOf: (start: ChatStart) => string): AnswerProtocol {
  return {
    answer(start, acc, usage) {
      const response = finishResponse({ ...base, model: modelOf(start) }, outputOf(acc, ids), acc.finish, usage);
      finished(response);
      return response;
    },
    encoder: (writer) => new ResponsesEncoder(writer, base, ids, finished, modelOf),
  };
}

interface OpenText {
  index: number;
  item: MessageItem | ReasoningItem;
  text: string;
  /** Each delta event's fields after `sequence_number` up to its delta, as JSON text. */
  deltaFields: string;
}
interface OpenCall {
  index: number;
  item: FunctionCallItem;
  done: boolean;
}

/**
 * One stream's events. Items open as their first delta arrives and close (`….done`,
 * `response.output_item.done`) when the next item opens or the answer ends, so every item's
 * events are contiguous, as OpenAI sends them.
 */
class ResponsesEncoder implements StreamEncoder {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  private text: OpenText | undefined;
  /** By the upstream's tool call index. */
  private readonly calls = new Map<number, OpenCall>();
  /** What a message item is once closed. */
  private messageStatus: ItemStatus = 'completed';

  constructor(
    private readonly writer: SseWriter,
    private base: ResponseObject,
    private readonly ids: ResponseIds,
    private readonly finished: OnFinished,
    private readonly modelOf: (start: ChatStart) => string,
  ) {}

  private send(type: string, fields: Record<string, unknown>): void {
    this.writer.send({ type, sequence_number: this.sequence++, ...fields }, type);
  }

  /**
   * An event whose fields after `sequence_number` are already JSON text (`,"name":value…`): the
   * frequent ones (a delta per upstream chunk) and those carrying the whole response are written
   * from text made once, not from an object serialized per event.
   */
  private sendFields(type: string, fields: string): void {
    this.writer.sendJson(`{"type":"${type}","sequence_number":${this.sequence++}${fields}}`, type);
  }

  open(start: ChatStart): void {
    // The model that serves is known once a provider is committed, before the first event.
    this.base = { ...this.base, model: this.modelOf(start) };
    const response = `,"response":${JSON.stringify(this.base)}`;
    this.sendFields('response.created', response);
    this.sendFields('response.in_progress', response);
  }

  event(event: ChatEvent): void {
    if (event.type !== 'delta') return;
    if (event.reasoning) this.textDelta('reasoning', event.reasoning);
    if (event.content) this.textDelta('message', event.content);
    for (const delta of event.toolCalls ?? []) {
      const known = this.calls.get(delta.index);
      // Named as the accumulator names it: pieces of a name add up.
      if (known && delta.function?.name) known.item.name += delta.function.name;
      const call = known ?? this.openCall(delta.index, delta.id, delta.function?.name ?? '');
      const args = delta.function?.arguments;
      if (!args) continue;
      call.item.arguments += args;
      if (!call.done) this.send('response.function_call_arguments.delta', { item_id: call.item.id, output_index: call.index, delta: args });
    }
  }

  complete(acc: ChatAccumulator, usage: () => Usage): void {
    // A message cut by the token limit is incomplete, as in a whole answer (outputOf).
    if (outcomeOf(acc.finish).status !== 'completed') this.messageStatus = 'incomplete';
    this.closeAll();
    const response = finishResponse(this.base, this.output, acc.finish, usage());
    const json = JSON.stringify(response);
    this.sendFields(response.status === 'completed' ? 'response.completed' : 'response.incomplete', `,"response":${json}`);
    this.finished(response, json);
    this.writer.end();
  }

  /** After content, the answer failed: `response.failed` says why, and nothing is stored. */
  error({ message }: StreamFailure): void {
    const response: ResponseObject = { ...this.base, status: 'failed', error: { code: 'server_error', message }, output: this.output };
    this.send('response.failed', { response });
    this.writer.end();
  }

  private add(item: OutputItem): number {
    this.closeAll();
    this.output.push(item);
    const index = this.output.length - 1;
    this.send('response.output_item.added', { output_index: index, item });
    return index;
  }

  private textDelta(kind: 'reasoning' | 'message', delta: string): void {
    if (this.text?.item.type !== kind) {
      const id = this.ids.item(kind);
      const item = kind === 'message' ? { ...messageItem(id, '', 'in_progress'), content: [] } : { ...reasoningItem(id, '', 'in_progress'), content: [] };
      const index = this.add(item);
      this.text = { index, item, text: '', deltaFields: `,"item_id":${JSON.stringify(id)},"output_index":${index},"content_index":0,"delta":` };
      const part = kind === 'message' ? outputText('') : { type: 'reasoning_text', text: '' };
      this.send('response.content_part.added', { item_id: id, output_index: index, content_index: 0, part });
    }
    const open = this.text!;
    open.text += delta;
    // The fields of OpenAI's delta events, in their order: item_id, output_index, content_index, delta (, logprobs).
    const fields = open.deltaFields + JSON.stringify(delta);
    if (kind === 'message') this.sendFields('response.output_text.delta', `${fields},"logprobs":[]`);
    else this.sendFields('response.reasoning_text.delta', fields);
  }

  private openCall(toolIndex: number, callId: string | undefined, name: string): OpenCall {
    const call = { id: '', type: 'function' as const, function: { name, arguments: '' } };
    const item = functionCallItem(this.ids.item('function_call'), call, callId || this.ids.call(toolIndex), 'in_progress');
    const open: OpenCall = { index: this.output.length, item, done: false };
    this.add(item);
    this.calls.set(toolIndex, open);
    return open;
  }

  private closeAll(): void {
    this.closeText();
    for (const call of this.calls.values()) {
      if (call.done) continue;
      call.done = true;
      const { item, index } = call;
      this.send('response.function_call_arguments.done', { item_id: item.id, output_index: index, name: item.name, arguments: item.arguments });
      item.status = 'completed';
      this.send('response.output_item.done', { output_index: index, item });
    }
  }

  private closeText(): void {
    const open = this.text;
    if (!open) return;
    this.text = undefined;
    const { item, index, text } = open;
    const fields = { item_id: item.id, output_index: index, content_index: 0 };
    if (item.type === 'message') {
      this.send('response.output_text.done', { ...fields, text, logprobs: [] });
      item.content = [outputText(text)];
    } else {
      this.send('response.reasoning_text.done', { ...fields, text });
      item.content = [{ type: 'reasoning_text', text }];
    }
    this.send('response.content_part.done', { ...fields, part: item.content[0] });
    item.status = item.type === 'message' ? this.messageStatus : 'completed';
    this.send('response.output_item.done', { output_index: index, item });
  }
}
