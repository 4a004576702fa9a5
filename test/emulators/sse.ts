import type { ServerResponse } from 'node:http';
import { flushTurn, writeAsync } from './http-io.ts';
import type { Framing } from './types.ts';

/** One SSE event's data payload; `delta` marks events that carry answer content. */
export interface StreamStep {
  data: string;
  delta: boolean;
}

export const DEFAULT_FRAMING: Framing = { crlf: false, noSpace: false, comments: false, splitBytes: 0, multiline: false };

export function eol(framing: Framing): string {
  return framing.crlf ? '\r\n' : '\n';
}

/** The comment block some upstreams send before the first event. */
export function preamble(framing: Framing): string {
  return framing.comments ? `: keep-alive${eol(framing)}${eol(framing)}` : '';
}

export function encodeEvent(data: string, framing: Framing, seq: number): string {
  const nl = eol(framing);
  const field = (name: string, value: string): string => `${name}:${framing.noSpace ? '' : ' '}${value}`;
  const lines: string[] = [];
  if (framing.comments) lines.push(': keep-alive', field('event', 'message'), field('id', String(seq)));
  const parts = framing.multiline ? splitForMultiline(data) : [data];
  for (const part of parts) lines.push(field('data', part));
  return lines.join(nl) + nl + nl;
}

/**
 * Splits a JSON payload into two lines at a point where a newline is valid JSON whitespace:
 * after the first top-level comma, or after the opening brace of a one-member object.
 * An SSE client joins the lines with "\n", which restores a parseable document.
 */
export function splitForMultiline(data: string): string[] {
  if (!data.startsWith('{')) return [data];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) return [data.slice(0, i + 1), data.slice(i + 1)];
  }
  return data.length > 2 ? [data.slice(0, 1), data.slice(1)] : [data];
}

/** Writes a stream either as given or re-cut into fixed-size byte pieces, one write per piece. */
export class StreamWriter {
  #res: ServerResponse;
  #splitBytes: number;
  #signal: AbortSignal;
  #pending: Buffer = Buffer.alloc(0);

  constructor(res: ServerResponse, splitBytes: number, signal: AbortSignal) {
    this.#res = res;
    this.#splitBytes = Math.max(0, Math.floor(splitBytes));
    this.#signal = signal;
  }

  async write(text: string): Promise<void> {
    if (text.length === 0) return;
    if (this.#splitBytes === 0) {
      await writeAsync(this.#res, text, this.#signal);
      return;
    }
    this.#pending = Buffer.concat([this.#pending, Buffer.from(text, 'utf8')]);
    while (this.#pending.length >= this.#splitBytes) {
      const piece = this.#pending.subarray(0, this.#splitBytes);
      this.#pending = this.#pending.subarray(this.#splitBytes);
      await this.#writePiece(piece);
    }
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    await this.#writePiece(rest);
  }

  async #writePiece(piece: Buffer): Promise<void> {
    await writeAsync(this.#res, Buffer.from(piece), this.#signal);
    // Yielding a turn lets each piece leave as its own packet instead of being coalesced.
    await flushTurn();
  }
}
