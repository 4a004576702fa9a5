/**
 * Test doubles for the playground's unit tests: a `fetch` whose answers the test writes chunk by
 * chunk (a real Response over a ReadableStream, as the browser gives), and chunk builders.
 */
import type { ChatCompletionChunk, FinishReason, Usage } from '#contracts';

export interface FetchCall {
  url: string;
  init: RequestInit;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

export interface StreamHandle {
  /** Writes one `data:` event (JSON, or a raw string such as "[DONE]"). */
  send(payload: unknown): void;
  /** Writes raw bytes of the stream. */
  raw(text: string): void;
  close(): void;
  /** Breaks the connection mid-stream. */
  fail(err?: Error): void;
}

const encoder = new TextEncoder();

/** A `fetch` that hands each request to the test, which answers it when it likes. */
export class FakeFetch {
  readonly calls: FetchCall[] = [];
  private waiting: Array<{ resolve(r: Response): void; reject(e: unknown): void; signal: AbortSignal | null }> = [];

  readonly fn: typeof fetch = (input, init = {}) => {
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    this.calls.push({ url: String(input), init, body: JSON.parse(String(init.body ?? '{}')) as Record<string, unknown>, headers });
    return new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? null;
      signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')));
      this.waiting.push({ resolve, reject, signal });
    });
  };

  get pending(): number {
    return this.waiting.length;
  }

  /** Answers the oldest request with an SSE stream the test then writes. */
  stream(headers: Record<string, string> = {}): StreamHandle {
    const next = this.take();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    next.signal?.addEventListener('abort', () => controller.error(new DOMException('The operation was aborted.', 'AbortError')));
    next.resolve(new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', ...headers } }));
    return {
      send: (payload) => controller.enqueue(encoder.encode(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`)),
      raw: (text) => controller.enqueue(encoder.encode(text)),
      close: () => controller.close(),
      fail: (err = new TypeError('network error')) => controller.error(err),
    };
  }

  /** Answers the oldest request with a JSON body. */
  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.take().resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } }));
  }

  /** The oldest request gets no answer at all (server down). */
  networkError(): void {
    this.take().reject(new TypeError('Failed to fetch'));
  }

  private take() {
    const next = this.waiting.shift();
    if (!next) throw new Error('no fetch is waiting for an answer');
    return next;
  }
}

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk' as const, created: 1, model: 'gpt-4o-mini' };

export function chunk(content: string, extra: { reasoning?: string; finish?: FinishReason } = {}): ChatCompletionChunk {
  const delta: ChatCompletionChunk['choices'][number]['delta'] = {};
  if (content) delta.content = content;
  if (extra.reasoning) delta.reasoning_content = extra.reasoning;
  return { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: extra.finish ?? null }], usage: null };
}

export function usageChunk(usage: Usage): ChatCompletionChunk {
  return { ...base, choices: [], usage };
}

/** Lets promise callbacks and stream reads run (real timers). */
export const flush = async (rounds = 5): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
};
