import type { Response } from 'express';
import type { ClientFlow } from '../providers/provider-adapter.ts';

/**
 * Writes server-sent events: OpenAI chat's `data: {json}\n\n` ending in `data: [DONE]` (done), or
 * typed events `event: name\ndata: {json}\n\n` as the Responses and Anthropic Messages streams
 * have them, ending with the connection (end).
 *
 * It is also the stream's backpressure (ClientFlow): once a write finds the client's buffer full,
 * the upstream reader waits for 'drain'; a client that takes nothing for `stallMs` is dropped
 * (its response destroyed, which ends the request like a disconnect), so that a client that never
 * reads holds one socket buffer and one upstream read, not the whole answer.
 */
export class SseWriter implements ClientFlow {
  /** The events of this turn of the event loop, not yet written (see sendJson). */
  private pending = '';
  private waiting: Array<() => void> = [];
  /** Whether a 'drain' listener (and the stall timer) is set. */
  private watching = false;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Set when the client was dropped for reading nothing for `stallMs`. */
  stalled = false;

  constructor(
    private readonly res: Response,
    /** How long the client may take nothing while the gateway has data for it; 0: forever. */
    readonly stallMs = 0,
  ) {}

  open(headers: Record<string, string>): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and other reverse proxies must not buffer the stream.
      'x-accel-buffering': 'no',
      ...headers,
    });
    flattenHead(this.res);
  }

  get isOpen(): boolean {
    return this.res.headersSent && !this.res.writableEnded && !this.res.destroyed;
  }

  get blocked(): boolean {
    return this.res.writableNeedDrain && this.isOpen;
  }

  onDrain(resume: () => void): void {
    if (!this.blocked) return resume();
    this.waiting.push(resume);
  }

  send(payload: unknown, event?: string): void {
    this.sendJson(JSON.stringify(payload), event);
  }

  /**
   * As send, with the payload already JSON text (a protocol that writes its frequent events from
   * a template). Events sent in the same turn of the event loop (an upstream read often carries
   * several) leave in one write of one HTTP chunk, once the turn's work is done: that delays
   * nothing (no timer) and costs one write, not one per event. The client's backpressure is seen
   * from that write on (see blocked), so at most one upstream read's events wait here.
   */
  sendJson(json: string, event?: string): void {
    if (!this.isOpen) return;
    if (this.pending === '') process.nextTick(flush, this);
    this.pending += event === undefined ? `data: ${json}\n\n` : `event: ${event}\ndata: ${json}\n\n`;
  }

  /** Ends an OpenAI chat stream: its last event is `data: [DONE]`. */
  done(): void {
    this.end('data: [DONE]\n\n');
  }

  /** Ends the stream, after `last` if given (typed-event protocols end with their final event). */
  end(last?: string): void {
    if (!this.isOpen) return;
    // The events gathered this turn, the last one and the chunked terminator leave in one socket write.
    const text = this.pending + (last ?? '');
    this.pending = '';
    this.res.end(text === '' ? undefined : text);
  }

  /**
   * One timer and one 'drain' listener per full buffer, however many writes found it full. The
   * listener and the timer's callback are made the first time a client falls behind: most never
   * do, and every open stream would hold them.
   */
  private watchStall(): void {
    if (this.watching) return;
    this.watching = true;
    this.drained ??= this.onDrained.bind(this);
    this.res.once('drain', this.drained);
    if (this.stallMs > 0) this.stallTimer = setTimeout(this.drop.bind(this), this.stallMs);
  }

  private drained: (() => void) | undefined;

  private onDrained(): void {
    this.watching = false;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
  }

  private drop(): void {
    this.stallTimer = undefined;
    this.watching = false;
    this.res.off('drain', this.drained!);
    this.waiting = [];
    // Ended but not yet taken by the client counts too: the buffered end is all it holds.
    if (this.res.writableFinished || this.res.destroyed) return;
    this.stalled = true;
    this.res.destroy();
  }

  /** See sendJson(): the turn's events are gathered, now they leave. */
  flushNow(): void {
    const text = this.pending;
    this.pending = '';
    // Empty once end() took it; not written once the client is gone.
    if (text === '' || !this.isOpen) return;
    if (!this.res.write(text)) this.watchStall();
  }
}

/** process.nextTick's callback with its argument: no closure per writer. */
const flush = (writer: SseWriter): void => writer.flushNow();

/**
 * Node keeps a response's head, built with `+=` one header at a time, for the life of the
 * response (its truthiness is `headersSent`): a rope of some 40 string nodes (~1.4 KB) per open
 * stream. The same text as one flat string is a few hundred bytes. Headers are latin1 by the time
 * Node has validated and stored them, so the round trip is exact.
 */
function flattenHead(res: Response): void {
  const out = res as unknown as { _header?: unknown };
  if (typeof out._header === 'string') out._header = Buffer.from(out._header, 'latin1').toString('latin1');
}
