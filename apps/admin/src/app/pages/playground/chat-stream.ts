import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import { Injectable, InjectionToken, inject } from '@angular/core';
import type { AttemptSummary, ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, FinishReason, OpenAIErrorEnvelope, Usage } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { AuthService } from '../../core/auth.service';
import { SseDecoder } from './sse';

/** The console's chat playground endpoint: /v1/chat/completions behind the admin session. */
export const CHAT_TEST_URL = '/api/chat/test';

/** `fetch`, replaceable in tests. HttpClient buffers a response; a stream needs the body's reader. */
export const FETCH = new InjectionToken<typeof fetch>('FETCH', { providedIn: 'root', factory: () => (input, init) => fetch(input, init) });

/** What a streamed answer reports, in order: `open` once, then deltas, a finish, usage (when asked for). */
export type ChatStreamEvent =
  | { type: 'open'; provider: string | null; upstreamModel: string | null; requestId: string | null }
  | { type: 'delta'; content: string; reasoning: string }
  | { type: 'finish'; reason: FinishReason }
  | { type: 'usage'; usage: Usage }
  /** The stream broke after it had started (the gateway sends an error event, then [DONE]). */
  | { type: 'error'; message: string; code: string | null };

/** A chat request that got no answer: no connection, or an error status (OpenAI's envelope). */
export class ChatRequestError extends Error {
  constructor(
    readonly failure: ApiFailure,
    /** Every upstream try, when the gateway listed them (all providers failed). */
    readonly attempts: AttemptSummary[],
    readonly requestId: string | null,
  ) {
    super(failure.message);
    this.name = 'ChatRequestError';
  }
}

type ErrorBody = Partial<OpenAIErrorEnvelope> | null;

/**
 * Streams one chat completion from the playground endpoint with the session token. Events go to
 * `onEvent` as they arrive; the promise settles when the stream ends. A 401/403 ends the session
 * (back to 登录) as the interceptor does for HttpClient calls. Aborting `signal` rejects with the
 * fetch's AbortError.
 */
@Injectable({ providedIn: 'root' })
export class ChatStreamClient {
  private readonly auth = inject(AuthService);
  private readonly fetch = inject(FETCH);

  async stream(body: ChatCompletionRequest, signal: AbortSignal, onEvent: (event: ChatStreamEvent) => void): Promise<void> {
    const token = this.auth.token();
    if (!token) {
      this.auth.expire();
      throw new ChatRequestError(describeApiError(new HttpErrorResponse({ status: 401, url: CHAT_TEST_URL })), [], null);
    }
    let res: Response;
    try {
      res = await this.fetch(CHAT_TEST_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
        body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new ChatRequestError(describeApiError(new HttpErrorResponse({ status: 0, statusText: 'Unknown Error', url: CHAT_TEST_URL })), [], null);
    }

    const requestId = res.headers.get('x-request-id');
    if (!res.ok) throw await this.failure(res, requestId);
    onEvent({ type: 'open', provider: res.headers.get('x-pool-provider'), upstreamModel: res.headers.get('x-pool-upstream-model'), requestId });

    // Not a stream after all (a proxy, an old gateway): one completion.
    if (!(res.headers.get('content-type') ?? '').includes('text/event-stream') || !res.body) {
      const completion = (await res.json()) as ChatCompletion;
      const message = completion.choices?.[0]?.message;
      onEvent({ type: 'delta', content: message?.content ?? '', reasoning: message?.reasoning_content ?? '' });
      if (completion.choices?.[0]) onEvent({ type: 'finish', reason: completion.choices[0].finish_reason });
      if (completion.usage) onEvent({ type: 'usage', usage: completion.usage });
      return;
    }

    const reader = res.body.getReader();
    const text = new TextDecoder();
    const sse = new SseDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        const datas = done ? [...sse.push(text.decode()), ...sse.end()] : sse.push(text.decode(value, { stream: true }));
        for (const data of datas) if (handle(data, onEvent) === 'done') return;
        if (done) return;
      }
    } finally {
      reader.releaseLock();
    }
  }

  private async failure(res: Response, requestId: string | null): Promise<ChatRequestError> {
    let body: ErrorBody;
    const raw = await res.text().catch(() => '');
    try {
      body = JSON.parse(raw) as ErrorBody;
    } catch {
      body = null;
    }
    const headers = new HttpHeaders(Object.fromEntries(res.headers.entries()));
    const failure = describeApiError(
      new HttpErrorResponse({ status: res.status, statusText: res.statusText, headers, error: body ?? raw, url: CHAT_TEST_URL }),
    );
    if (failure.kind === 'unauthorized') this.auth.expire();
    return new ChatRequestError(failure, body?.error?.attempts ?? [], requestId);
  }
}

/** One `data:` payload → events; 'done' at `[DONE]`. Unparseable payloads are skipped. */
function handle(data: string, onEvent: (event: ChatStreamEvent) => void): 'done' | void {
  if (data.trim() === '[DONE]') return 'done';
  let payload: Partial<ChatCompletionChunk> & ErrorBody;
  try {
    payload = JSON.parse(data) as Partial<ChatCompletionChunk> & ErrorBody;
  } catch {
    return;
  }
  if (payload?.error) {
    onEvent({ type: 'error', message: payload.error.message ?? '', code: payload.error.code ?? null });
    return;
  }
  for (const choice of payload.choices ?? []) {
    const content = choice.delta?.content ?? '';
    const reasoning = choice.delta?.reasoning_content ?? '';
    if (content || reasoning) onEvent({ type: 'delta', content, reasoning });
    if (choice.finish_reason) onEvent({ type: 'finish', reason: choice.finish_reason });
  }
  if (payload.usage) onEvent({ type: 'usage', usage: payload.usage });
}
