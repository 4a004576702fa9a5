import type { ResumePoint } from '#contracts';
import type { ChatEvent, ChatRequest } from '../providers/provider-adapter.ts';
import { countTextTokens } from '../usage/token-counter.ts';

/**
 * Past this much text a stream is not resumed: the prefill would be a prompt of its own, and the
 * copy kept for it would grow with the answer.
 */
export const MAX_RESUME_CHARS = 200_000;

/** How long a route that answered a prefill with a 400 is left out of resumptions. */
export const PREFILL_REFUSAL_MS = 30 * 60_000;

/** Routes remembered at most; the oldest is forgotten first. */
const MAX_REFUSALS = 1000;

/**
 * What one stream has sent its client so far: the text a resumption continues from, and whether
 * the stream holds anything a prefill cannot carry (tool calls) or has already ended (a finish).
 */
export class Delivered {
  text = '';
  private toolCalls = false;
  private finished = false;
  private tooLong = false;

  add(event: ChatEvent): void {
    if (event.type === 'finish') this.finished = true;
    if (event.type !== 'delta') return;
    if (event.toolCalls?.length) this.toolCalls = true;
    if (!event.content || this.tooLong) return;
    if (this.text.length + event.content.length > MAX_RESUME_CHARS) {
      this.tooLong = true;
      this.text = '';
    } else this.text += event.content;
  }

  /** Whether another route could continue this text: some was sent, all plain, the answer not over. */
  get resumable(): boolean {
    return this.text !== '' && !this.toolCalls && !this.finished && !this.tooLong;
  }
}

/** One resumption: the request that asks a route to continue, where it picks up, and the break it mends. */
export interface Resume {
  request: ChatRequest;
  point: ResumePoint;
  /** The route that broke: not the one to continue. */
  broken: { provider: string; upstreamModel: string };
  /** The break itself, what the client is told when no route can continue. */
  cause: unknown;
  /** Resumptions of this stream so far, this one included. */
  count: number;
}

/** The request that continues `request` after `text`: the conversation and the text as a trailing assistant message. */
export function resumeRequest(request: ChatRequest, text: string): ChatRequest {
  return { ...request, messages: [...request.messages, { role: 'assistant', content: text }] };
}

export function resumePoint(text: string, reason: string): ResumePoint {
  return { chars: text.length, tokens: countTextTokens(text), reason };
}

/**
 * A continuation's usage, made the whole answer's: its prompt held the text already sent, which
 * is the answer's completion, not the client's prompt. The total stays the upstream's.
 */
export function wholeAnswerUsage(event: ChatEvent, prefixTokens: number): ChatEvent {
  if (event.type !== 'usage') return event;
  const moved = Math.min(prefixTokens, event.usage.prompt_tokens);
  const usage = { ...event.usage, prompt_tokens: event.usage.prompt_tokens - moved, completion_tokens: event.usage.completion_tokens + moved };
  return { ...event, usage };
}

/**
 * Routes that refused a prefill (a 400 to a trailing assistant message), each remembered for
 * PREFILL_REFUSAL_MS so that later resumptions go elsewhere at once. Bounded: the oldest goes first.
 */
export class PrefillRefusals {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs = PREFILL_REFUSAL_MS,
    private readonly max = MAX_REFUSALS,
    private readonly now: () => number = Date.now,
  ) {}

  note(provider: string, upstreamModel: string): void {
    const key = routeKey(provider, upstreamModel);
    this.until.delete(key);
    this.until.set(key, this.now() + this.ttlMs);
    if (this.until.size > this.max) this.until.delete(this.until.keys().next().value!);
  }

  refuses(provider: string, upstreamModel: string): boolean {
    const key = routeKey(provider, upstreamModel);
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(key);
    return false;
  }
}

const routeKey = (provider: string, upstreamModel: string) => `${provider}\u0000${upstreamModel}`;
