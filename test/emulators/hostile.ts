/**
 * Upstreams that try to crash, freeze or bloat their client: bodies that inflate without end,
 * lines that never end, answers too large to hold, streams that keep the connection alive
 * without ever answering. Every body here is generated as it is written, with backpressure, and
 * stops when the client goes away; nothing large is ever allocated whole in the emulator.
 */
import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { sleep, writeAsync } from './http-io.ts';
import type { FaultMode } from './types.ts';

export const HOSTILE_MODES = ['gzipBomb', 'endlessLine', 'endlessLineGzip', 'hugeJson', 'commentOnly', 'emptyChunks'] as const satisfies readonly FaultMode[];
export type HostileMode = (typeof HOSTILE_MODES)[number];

export function isHostileMode(mode: FaultMode): mode is HostileMode {
  return (HOSTILE_MODES as readonly string[]).includes(mode);
}

/** A gzip stream may hold several members, each inflated in turn: one member of zeros, repeated. */
const ZEROS_MEMBER_INFLATED = 16 * 1024 * 1024;
let zerosMember: Buffer | undefined;
let lettersMember: Buffer | undefined;
/** 64 members of 16 MiB of zeros: about 1 MB on the wire, 1 GiB inflated. */
export const GZIP_BOMB_MEMBERS = 64;
/** What the endless bodies send at most, should a client never stop reading: 64 GiB inflated, 2 GiB plain. */
const ENDLESS_MEMBERS = 4096;
const PLAIN_PIECE = Buffer.alloc(64 * 1024, 'a');
const PLAIN_PIECES = 32 * 1024;
/** hugeJson: 300 MB of a string member, sent without Content-Length. */
export const HUGE_JSON_BYTES = 300 * 1024 * 1024;
const TICK_MS = 50;

/** Made once, on first use: compressing 16 MiB takes tens of milliseconds. */
function zeros(): Buffer {
  return (zerosMember ??= gzipSync(Buffer.alloc(ZEROS_MEMBER_INFLATED), { level: 9 }));
}

function letters(): Buffer {
  return (lettersMember ??= gzipSync(Buffer.alloc(ZEROS_MEMBER_INFLATED, 'a'), { level: 9 }));
}

const chunk = (delta: Record<string, unknown>) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-hostile', object: 'chat.completion.chunk', created: 0, model: 'hostile', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;

/** Writes `pieces()` in turn, waiting for each to be taken; stops early when the client left. */
async function pour(res: ServerResponse, signal: AbortSignal, count: number, piece: (i: number) => Buffer | string): Promise<void> {
  for (let i = 0; i < count && !res.destroyed && !signal.aborted; i++) await writeAsync(res, piece(i), signal);
  if (!res.destroyed) res.end();
}

/** Keeps writing `piece` every TICK_MS (or `intervalMs`) until the client leaves. */
async function drip(res: ServerResponse, signal: AbortSignal, piece: string, intervalMs = TICK_MS): Promise<void> {
  while (!res.destroyed && !signal.aborted) {
    await writeAsync(res, piece, signal);
    await sleep(intervalMs, signal);
  }
}

export async function answerHostile(res: ServerResponse, signal: AbortSignal, mode: HostileMode, stream: boolean, intervalMs?: number): Promise<void> {
  const sse = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
  const json = { 'content-type': 'application/json' };
  switch (mode) {
    case 'gzipBomb': {
      // A stream gets one real content chunk first, so the bomb goes off after the client has content.
      const head = stream ? gzipSync(chunk({ role: 'assistant', content: 'Hello' })) : undefined;
      const members = [...(head ? [head] : []), ...Array.from({ length: GZIP_BOMB_MEMBERS }, zeros)];
      res.writeHead(200, { ...(stream ? sse : json), 'content-encoding': 'gzip', 'content-length': String(members.reduce((n, m) => n + m.length, 0)) });
      return pour(res, signal, members.length, (i) => members[i]!);
    }
    case 'endlessLine':
      res.writeHead(200, stream ? sse : json);
      return pour(res, signal, PLAIN_PIECES, (i) => (i === 0 ? 'data: {"choices":[{"delta":{"content":"' : PLAIN_PIECE));
    case 'endlessLineGzip': {
      const head = gzipSync('data: {"choices":[{"delta":{"content":"');
      res.writeHead(200, { ...(stream ? sse : json), 'content-encoding': 'gzip' });
      return pour(res, signal, ENDLESS_MEMBERS, (i) => (i === 0 ? head : letters()));
    }
    case 'hugeJson': {
      res.writeHead(200, json);
      const pieces = HUGE_JSON_BYTES / PLAIN_PIECE.length;
      const open = '{"id":"chatcmpl-huge","object":"chat.completion","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"';
      return pour(res, signal, pieces + 2, (i) => (i === 0 ? open : i <= pieces ? PLAIN_PIECE : '"}}]}'));
    }
    case 'commentOnly':
      res.writeHead(200, sse);
      return drip(res, signal, ': ping\n\n', intervalMs);
    case 'emptyChunks':
      res.writeHead(200, sse);
      await writeAsync(res, chunk({ role: 'assistant' }), signal);
      return drip(res, signal, `${chunk({})}${chunk({ content: '' })}`, intervalMs);
  }
}
