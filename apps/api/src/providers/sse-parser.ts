import { Buffer, isAscii } from 'node:buffer';

/**
 * One dispatched event, carrying what a browser's EventSource would put on the MessageEvent.
 * Follows the WHATWG HTML "event stream interpretation" rules.
 */
export interface SseEvent {
  /** The block's `event` field, or 'message' when it had none (or an empty one). */
  event: string;
  /** The block's `data` lines joined with '\n'. */
  data: string;
  /**
   * The stream's last event ID at dispatch. Per spec it persists from earlier blocks until an
   * `id` field changes it, so this may come from a previous event; absent while it is empty.
   */
  id?: string;
  /** Reconnection time (ms) from a valid `retry` field in this event's own block. */
  retry?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const BOM = 0xfeff;
const DIGITS_ONLY = /^[0-9]+$/;
/** Chunks up to this size are handled without allocating (the native calls cost more there). */
const SMALL_CHUNK = 16;
/**
 * One decoder for every parser: it only ever decodes complete characters in one call (never
 * `{ stream: true }`, see decode()), so it carries nothing from one call to the next. A decoder
 * of its own per stream held an ICU converter (~2 KB of native memory) for the stream's life
 * once its text was not ASCII. The stream's single leading BOM is stripped by the parser, so the
 * decoder must never strip one: it sees each chunk's complete characters as a fresh input and
 * would drop a BOM at any of them.
 */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Bounds on what one stream can make the parser hold; unbounded when absent. */
export interface SseLimits {
  /** UTF-8 bytes of one line, its ending excluded. */
  maxLineBytes?: number;
  /** UTF-8 bytes of one event's lines, endings included (what `pendingBytes` counts). */
  maxEventBytes?: number;
}

/** Thrown by push() when the input breaks an SseLimits bound; the parser takes no more input after it. */
export class SseLimitError extends RangeError {
  override name = 'SseLimitError';

  constructor(
    /** Which bound was broken. */
    readonly limit: 'line' | 'event',
    message: string,
    /** Events the same push() completed before the bound was broken. */
    readonly events: SseEvent[],
  ) {
    super(message);
  }
}

/**
 * Incremental SSE parser for upstream streams that arrive as arbitrary network packets:
 * packet boundaries may fall inside a line, inside a CRLF pair or inside a UTF-8 character.
 */
export class SseParser {
  /**
   * Holds the trailing bytes of an incomplete UTF-8 sequence until a later chunk completes them
   * (`heldLength` of them), and is the scratch space where small chunks are appended to them.
   */
  private readonly held = new Uint8Array(SMALL_CHUNK);
  private heldLength = 0;
  private sawFirstChar = false;
  /** The previous piece ended in CR, so an LF opening the next piece belongs to that line ending. */
  private skipLF = false;
  /** The current line's text so far; only newly arrived text is ever scanned for line endings. */
  private partial = '';
  /** UTF-8 bytes of `partial` once it is long enough to be worth counting; -1 before. */
  private partialBytes = -1;
  /** A stripped BOM's bytes, charged to the first line for `pendingBytes`. */
  private partialExtraBytes = 0;

  private dataLines: string[] = [];
  private eventType = '';
  private idBuffer = '';
  private blockRetry: number | undefined;
  private lastEventIdString = '';
  private reconnectionTime: number | undefined;

  /** Whether a field line has been seen since the last blank line, i.e. an event is in progress. */
  private inBlock = false;
  /** UTF-8 length of the in-progress block's completed lines, line endings included. */
  private blockBytes = 0;
  private ended = false;
  private discardedBytes = 0;
  private readonly maxLineBytes: number;
  private readonly maxEventBytes: number;
  /**
   * A line of at most this many UTF-16 code units is within maxLineBytes whatever its characters
   * (one unit is at most 3 UTF-8 bytes), so the common case is checked without counting bytes.
   */
  private readonly safeLineUnits: number;

  constructor(limits: SseLimits = {}) {
    this.maxLineBytes = limits.maxLineBytes ?? Infinity;
    this.maxEventBytes = limits.maxEventBytes ?? Infinity;
    this.safeLineUnits = Math.floor(this.maxLineBytes / 3);
  }

  /** Feed bytes (Buffer/Uint8Array) or text; returns the events completed by this piece. */
  push(chunk: Uint8Array | string): SseEvent[] {
    if (this.ended) throw new Error('SseParser.push() called after end()');
    const out: SseEvent[] = [];
    if (typeof chunk === 'string') {
      // A byte sequence cut off by text can never be completed; the decoder's flush emits the
      // U+FFFD a browser would show for it.
      if (this.heldLength > 0) {
        this.feed(decoder.decode(this.held.subarray(0, this.heldLength)), out);
        this.heldLength = 0;
      }
      this.feed(chunk, out);
    } else {
      this.feed(this.decode(chunk), out);
    }
    return out;
  }

  /**
   * End of stream. Per spec, an event not yet terminated by a blank line is discarded, so this
   * always returns []; `pendingBytes` keeps reporting how much input was thrown away.
   */
  end(): SseEvent[] {
    if (this.ended) return [];
    this.discardedBytes = this.pendingBytes;
    this.ended = true;
    this.heldLength = 0;
    this.partial = '';
    this.dataLines = [];
    return [];
  }

  /**
   * UTF-8 bytes of input received after the last point where the parser held no unfinished
   * line or event: what `end()` discards (and, after `end()`, what it did discard). Lets callers
   * tell a cleanly finished stream from one cut off mid-event. Undecodable bytes count as the
   * U+FFFD they decoded to.
   */
  get pendingBytes(): number {
    if (this.ended) return this.discardedBytes;
    return this.blockBytes + this.partialExtraBytes + Buffer.byteLength(this.partial, 'utf8') + this.heldLength;
  }

  /** The event source's last event ID (what a reconnect would send as `Last-Event-ID`). */
  get lastEventId(): string {
    return this.lastEventIdString;
  }

  /** The reconnection time from the most recent valid `retry` field, even one in an undispatched block. */
  get retry(): number | undefined {
    return this.reconnectionTime;
  }

  private decode(bytes: Uint8Array): string {
    const length = bytes.length;
    if (length === 0) return '';
    // Providers send almost only ASCII, often in tiny pieces; ASCII bytes map one-to-one to
    // UTF-16 code units, so they skip the decoder.
    if (this.heldLength === 0 && isAsciiBytes(bytes)) {
      return length === 1 ? String.fromCharCode(bytes[0]!) : Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1');
    }
    // Splitting at character boundaries here, rather than using TextDecoder's { stream: true }
    // mode, is a matter of speed: Node's streaming decode costs ~1 µs per call, so non-ASCII
    // text fed a byte at a time parsed at ~1 s/MB; this way the decoder runs at most once per
    // completed character. The output is the same, invalid bytes included: an incomplete
    // sequence yields one U+FFFD whether end of input or a byte that cannot continue it ends it.
    let input: Uint8Array;
    if (this.heldLength + length <= SMALL_CHUNK) {
      this.held.set(bytes, this.heldLength);
      input = this.held;
    } else {
      input = new Uint8Array(this.heldLength + length);
      input.set(this.held.subarray(0, this.heldLength));
      input.set(bytes, this.heldLength);
    }
    const end = this.heldLength + length;
    const complete = completePrefixLength(input, end);
    const text = complete === 0 ? '' : decoder.decode(input.subarray(0, complete));
    // Decoded before this shift, which may overwrite `held`, the input itself for small chunks.
    for (let i = complete; i < end; i++) this.held[i - complete] = input[i]!;
    this.heldLength = end - complete;
    return text;
  }

  private feed(text: string, out: SseEvent[]): void {
    if (text.length === 0) return;
    let start = 0;
    if (!this.sawFirstChar) {
      this.sawFirstChar = true;
      if (text.charCodeAt(0) === BOM) {
        start = 1;
        this.partialExtraBytes = 3;
      }
    }
    if (this.skipLF) {
      this.skipLF = false;
      if (text.charCodeAt(start) === LF) {
        if (this.inBlock) this.blockBytes += 1;
        start += 1;
      }
    }
    const length = text.length;
    for (let i = start; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      let line: string;
      if (this.partial === '') line = text.slice(start, i);
      else {
        line = this.partial + text.slice(start, i);
        this.partial = '';
        this.partialBytes = -1;
      }
      let terminatorBytes = 1;
      if (c === CR) {
        if (i + 1 === length) this.skipLF = true;
        else if (text.charCodeAt(i + 1) === LF) {
          i += 1;
          terminatorBytes = 2;
        }
      }
      this.processLine(line, terminatorBytes, out);
      start = i + 1;
    }
    if (start < length) {
      const piece = start === 0 ? text : text.slice(start);
      this.partial += piece;
      if (this.partial.length > this.safeLineUnits) this.checkPartial(piece, out);
    }
  }

  /**
   * Fails an unfinished line grown over maxLineBytes. Its bytes are counted in full once, when it
   * first may be over, then piece by piece: a long line fed in tiny chunks costs linear time.
   */
  private checkPartial(piece: string, out: SseEvent[]): void {
    if (this.partialBytes < 0) this.partialBytes = Buffer.byteLength(this.partial, 'utf8');
    else this.partialBytes += Buffer.byteLength(piece, 'utf8');
    if (this.partialBytes > this.maxLineBytes) this.lineTooLong(out);
  }

  private checkLine(line: string, out: SseEvent[]): void {
    if (Buffer.byteLength(line, 'utf8') > this.maxLineBytes) this.lineTooLong(out);
  }

  private lineTooLong(out: SseEvent[]): never {
    return this.fail('line', out, `an event stream line is over ${this.maxLineBytes} bytes`);
  }

  private fail(limit: 'line' | 'event', out: SseEvent[], message: string): never {
    this.end();
    throw new SseLimitError(limit, message, out);
  }

  private processLine(line: string, terminatorBytes: number, out: SseEvent[]): void {
    const extraBytes = this.partialExtraBytes;
    this.partialExtraBytes = 0;
    if (line.length > this.safeLineUnits) this.checkLine(line, out);
    if (line === '') {
      this.dispatch(out);
      this.inBlock = false;
      this.blockBytes = 0;
      return;
    }
    const isComment = line.charCodeAt(0) === 0x3a;
    if (isComment && !this.inBlock) return;
    this.inBlock = true;
    this.blockBytes += extraBytes + Buffer.byteLength(line, 'utf8') + terminatorBytes;
    if (this.blockBytes > this.maxEventBytes) this.fail('event', out, `an event stream event is over ${this.maxEventBytes} bytes`);
    if (isComment) return;

    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === SPACE ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value;
        break;
      case 'retry':
        if (DIGITS_ONLY.test(value)) {
          this.reconnectionTime = Number(value);
          this.blockRetry = this.reconnectionTime;
        }
        break;
      default:
        // The spec ignores unknown fields (field names are case-sensitive).
        break;
    }
  }

  private dispatch(out: SseEvent[]): void {
    this.lastEventIdString = this.idBuffer;
    const retry = this.blockRetry;
    this.blockRetry = undefined;
    if (this.dataLines.length === 0) {
      this.eventType = '';
      return;
    }
    const event: SseEvent = {
      event: this.eventType === '' ? 'message' : this.eventType,
      data: this.dataLines.join('\n'),
    };
    if (this.lastEventIdString !== '') event.id = this.lastEventIdString;
    if (retry !== undefined) event.retry = retry;
    this.dataLines = [];
    this.eventType = '';
    out.push(event);
  }
}

/**
 * Length of the prefix of `bytes[0, end)` that holds no incomplete UTF-8 sequence at its end. Follows the
 * WHATWG UTF-8 decoder on which prefixes are still completable: a byte that cannot continue a
 * sequence ends it (as U+FFFD) at once, so such bytes are not held back.
 */
function completePrefixLength(bytes: Uint8Array, end: number): number {
  // A sequence is at most 4 bytes long, so only the last 3 bytes can be an incomplete one.
  for (let i = end - 1; i >= 0 && i >= end - 3; i--) {
    const byte = bytes[i]!;
    if (byte >= 0x80 && byte <= 0xbf) continue;
    let needed: number;
    if (byte >= 0xc2 && byte <= 0xdf) needed = 2;
    else if (byte >= 0xe0 && byte <= 0xef) needed = 3;
    else if (byte >= 0xf0 && byte <= 0xf4) needed = 4;
    else return end;
    const seen = end - i;
    if (seen >= needed) return end;
    if (seen >= 2) {
      // Lead bytes that restrict the second byte rule out overlong forms, surrogates and
      // code points above U+10FFFF.
      const second = bytes[i + 1]!;
      let low = 0x80;
      let high = 0xbf;
      if (byte === 0xe0) low = 0xa0;
      else if (byte === 0xed) high = 0x9f;
      else if (byte === 0xf0) low = 0x90;
      else if (byte === 0xf4) high = 0x8f;
      if (second < low || second > high) return end;
    }
    return i;
  }
  return end;
}

function isAsciiBytes(bytes: Uint8Array): boolean {
  if (bytes.length > SMALL_CHUNK) return isAscii(bytes);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** Convenience: async-iterate events from an async iterable of chunks (e.g. a Node Readable). */
export async function* sseEvents(source: AsyncIterable<Uint8Array | string>, limits: SseLimits = {}): AsyncGenerator<SseEvent, void, undefined> {
  const parser = new SseParser(limits);
  for await (const chunk of source) yield* parser.push(chunk);
  yield* parser.end();
}
