import type { AttemptSummary, RequestLogEntry as RequestRecord } from '#contracts';

/** Longest id kept in a request record (model, provider, upstream model, key id, request id). */
export const MAX_ID_CHARS = 200;
/** Longest error text kept in a request record. */
export const MAX_ERROR_CHARS = 2000;
/** Longest attempt reason kept (the failover already shortens its own to 160 characters). */
export const MAX_REASON_CHARS = 500;
/** Most attempts kept per record; a request tries each route at most once, so this is never reached in practice. */
export const MAX_ATTEMPTS = 20;

/** The label metrics and stats use for a model or provider the gateway does not know. */
export const UNKNOWN_LABEL = 'unknown';

const ELLIPSIS = '…';

/**
 * `text` cut to at most `max` characters, marked with "…" when cut. Never splits a surrogate
 * pair: a lone half would turn into U+FFFD on its way through JSON or SQLite.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - ELLIPSIS.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + ELLIPSIS;
}

/*
 * Records come from every endpoint and every failure path; the bounding must not throw on one
 * that is malformed (it runs inside the request's emit), so non-strings pass through as they are.
 */
const cut = <T>(v: T, max: number): T => (typeof v === 'string' ? (truncate(v, max) as T) : v);
const id = <T>(v: T): T => cut(v, MAX_ID_CHARS);

function boundAttempt(a: AttemptSummary): AttemptSummary {
  if (typeof a !== 'object' || a === null) return a;
  const bounded: AttemptSummary = { ...a, provider: id(a.provider), upstream_model: id(a.upstream_model), reason: cut(a.reason, MAX_REASON_CHARS) };
  if (a.key !== undefined) bounded.key = id(a.key);
  return bounded;
}

/**
 * The record with every text field cut to a sane length, so that what a client sent (a 1 MB model
 * name) or an upstream answered (a 1 MB error) reaches no buffer, store, log or console whole.
 */
export function boundRecord(r: RequestRecord): RequestRecord {
  return {
    ...r,
    requestId: id(r.requestId),
    model: id(r.model),
    provider: id(r.provider),
    upstreamModel: id(r.upstreamModel),
    attempts: Array.isArray(r.attempts) ? r.attempts.slice(0, MAX_ATTEMPTS).map(boundAttempt) : r.attempts,
    error: cut(r.error, MAX_ERROR_CHARS),
    clientKey: id(r.clientKey),
    ...(r.alias === undefined ? {} : { alias: id(r.alias) }),
  };
}

const textLength = (v: unknown): number => (typeof v === 'string' ? v.length : 0);

/** Roughly what a record holds in memory (UTF-16 text plus a fixed overhead), for byte budgets; never throws. */
export function approxRecordBytes(r: RequestRecord): number {
  let chars =
    textLength(r.requestId) +
    textLength(r.model) +
    textLength(r.provider) +
    textLength(r.upstreamModel) +
    textLength(r.error) +
    textLength(r.clientKey) +
    textLength(r.alias);
  if (Array.isArray(r.attempts)) {
    for (const a of r.attempts) chars += 100 + textLength(a?.provider) + textLength(a?.upstream_model) + textLength(a?.key) + textLength(a?.reason);
  }
  return 300 + 2 * chars;
}
