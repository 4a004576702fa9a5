/**
 * The request log as a file (CSV or JSON Lines): pure formatting, and a walk through the store
 * page by page, so an export of any size holds one page in memory at a time.
 */
import type { Writable } from 'node:stream';
import type { RequestLogEntry } from '#contracts';
import type { LogFilter, RequestLogStore } from '../storage/storage.ts';

export type ExportFormat = 'csv' | 'jsonl';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'jsonl'];

/** Entries read from the store per step: small enough to hold, large enough that steps are few. */
export const EXPORT_PAGE_SIZE = 500;

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
};

type Cell = string | number | boolean | null | undefined;

/** The CSV columns, in order, and how each is read from an entry. */
export const CSV_COLUMNS: ReadonlyArray<readonly [string, (e: RequestLogEntry) => Cell]> = [
  ['startedAt', (e) => new Date(e.startedAt).toISOString()],
  ['requestId', (e) => e.requestId],
  ['endpoint', (e) => e.endpoint],
  ['model', (e) => e.model],
  ['alias', (e) => e.alias],
  ['stream', (e) => e.stream],
  ['status', (e) => e.status],
  ['provider', (e) => e.provider],
  ['upstreamModel', (e) => e.upstreamModel],
  ['clientKey', (e) => e.clientKey],
  ['latencyMs', (e) => e.latencyMs],
  ['ttftMs', (e) => e.ttftMs],
  ['promptTokens', (e) => e.usage?.prompt_tokens],
  ['completionTokens', (e) => e.usage?.completion_tokens],
  ['totalTokens', (e) => e.usage?.total_tokens],
  ['usageEstimated', (e) => e.usageEstimated],
  ['attempts', (e) => e.attempts.map((a) => `${a.provider}:${a.status ?? '-'}`).join(' > ')],
  ['error', (e) => e.error],
];

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma or line break, quotes doubled.
 * Text starting with = + - @ (or a tab / carriage return) gets a leading apostrophe, so that a
 * spreadsheet shows it instead of running it as a formula (a model id or an upstream error
 * message is text anyone can choose).
 */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The header line; a byte order mark first, without which Excel reads UTF-8 (Chinese errors) as ANSI. */
export const csvHeader = (): string => `\uFEFF${CSV_COLUMNS.map(([name]) => name).join(',')}\r\n`;

export const csvLine = (e: RequestLogEntry): string => `${CSV_COLUMNS.map(([, read]) => csvCell(read(e))).join(',')}\r\n`;

export const jsonLine = (e: RequestLogEntry): string => `${JSON.stringify(e)}\n`;

/**
 * Every entry matching `filter`, newest first, a page at a time. Pages are cut by time, not by
 * offset: each step asks for entries started before (or at) the oldest one seen, skipping the
 * ones at that instant already given, so a step costs the same at the end of a long export as at
 * its start, and entries logged meanwhile (newer ones) neither shift nor repeat what is read.
 */
export async function* logPages(store: RequestLogStore, filter: LogFilter, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<RequestLogEntry[]> {
  let to = filter.to;
  let skip = 0;
  for (;;) {
    const { items } = await store.query({ ...filter, to }, { offset: skip, limit: pageSize });
    if (!items.length) return;
    yield items;
    if (items.length < pageSize) return;
    const oldest = items[items.length - 1]!.startedAt;
    const atOldest = items.filter((e) => e.startedAt === oldest).length;
    skip = to === oldest + 1 ? skip + atOldest : atOldest;
    to = oldest + 1;
  }
}

/** Resolves true once `out` wants more, false if it closed first (the client went away). */
function drained(out: Writable): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (more: boolean) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      resolve(more);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    out.on('drain', onDrain);
    out.on('close', onClose);
  });
}

/**
 * Writes every chunk to `out`, waiting for it to drain whenever its buffer is full, so that a
 * client reading slowly slows the reading of the store instead of filling memory; stops (and
 * closes the source) as soon as `out` closes. A failure before anything was sent is rethrown (the
 * client still gets an error answer); after, `out` is destroyed, which cuts the download short,
 * and `onCut` is told why.
 */
export async function writeAll(chunks: AsyncIterable<string>, out: Writable & { headersSent?: boolean }, onCut?: (err: Error) => void): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (out.destroyed) return;
      if (!out.write(chunk) && !(await drained(out))) return;
    }
    out.end();
  } catch (err) {
    if (!out.headersSent) throw err;
    // The client sees only a download that ended early: the operator reads why in the log.
    onCut?.(err as Error);
    out.destroy(err as Error);
  }
}
