import type { AttemptCode } from '#contracts';
import { scrubSecrets } from '../common/redact.ts';

/*
 * Upstream failures and reading them, for every provider and the shared HTTP layer alike: the
 * error type, the message inside an error body (JSON of any common shape, HTML, text) and
 * Retry-After. Neutral ground, so that upstream-http.ts needs no adapter family's mapping.
 */

/** How an upstream attempt failed; drives failover, cooldown and the status the client sees. */
export type FailureKind =
  | 'network' // connect refused/reset, DNS, TLS
  | 'timeout' // connect or first-byte (or idle) timeout
  | 'http' // a non-2xx status
  | 'invalid' // a 2xx that is not an answer: HTML, unparsable, empty
  | 'aborted'; // the client went away

/**
 * Every upstream failure, with its message scrubbed of configured secrets and key-shaped tokens
 * (and bounded) here, where it is made: the message reaches clients, the request log, health
 * results and log lines, and an upstream may echo the key it was sent.
 */
export class UpstreamError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
    /** From a `Retry-After` header, in milliseconds. */
    readonly retryAfterMs?: number,
    /** The upstream judged the request itself, so another provider would not answer it either. */
    readonly verdict?: UpstreamVerdict,
    /** The answer was an HTML page (a proxy's or CDN's error page, a login wall), not the API's. */
    readonly html = false,
  ) {
    super(scrubSecrets(message));
    this.name = 'UpstreamError';
  }

  /** The key (not the provider) is at fault: bad, out of credit, or rate-limited. */
  get isKeyProblem(): boolean {
    return this.kind === 'http' && (this.status === 401 || this.status === 402 || this.status === 403 || this.status === 429);
  }
}

/**
 * A refusal about the request, not the provider: the prompt does not fit the model's context, or
 * the provider's content policy refused it. Resending it unchanged elsewhere only repeats the
 * refusal (or, for a policy, shops for a provider that says yes), so failover stops on it.
 */
export type UpstreamVerdict = 'context_length_exceeded' | 'content_policy_violation';

const CONTEXT_LENGTH =
  /context[_ ]length|context window|maximum context|prompt is too long|input is too long|too many (input )?tokens|reduce the length of (the|your) (messages|prompt|input)/i;
const CONTENT_POLICY = /content[_ ]policy|content[_ ]filter|content management policy|safety (system|filter|polic)|responsible ai policy/i;

/**
 * The verdict in a 4xx error body, when it gives one: by its code (OpenAI's
 * `context_length_exceeded`, `content_filter`, `content_policy_violation`) or by the words
 * providers use for them. Never throws.
 */
export function upstreamVerdict(status: number, body: string): UpstreamVerdict | undefined {
  if (status < 400 || status >= 500 || status === 401 || status === 402 || status === 403 || status === 429) return undefined;
  const text = String(body).slice(0, 4096);
  if (CONTEXT_LENGTH.test(text)) return 'context_length_exceeded';
  if (CONTENT_POLICY.test(text)) return 'content_policy_violation';
  return undefined;
}

/**
 * Best-effort human message from an upstream error body; '' when the body says nothing
 * (callers fall back to the status text). Never throws.
 */
export function upstreamErrorMessage(body: string): string {
  try {
    const text = String(body).trim();
    if (text === '') return '';
    if (/^[[{"]/.test(text)) {
      const parsed = tryParseJson(text);
      if (parsed !== undefined) {
        const message = errorMessageFromJson(parsed);
        if (message !== undefined) return clip(message, MAX_JSON_MESSAGE);
      }
    }
    return excerpt(text);
  } catch {
    return '';
  }
}

/**
 * The message inside an already-parsed error body (OpenAI, Pollinations, Cloudflare, HF,
 * FastAPI shapes); undefined when it carries none. Shared with the Cloudflare mapping.
 */
export function errorMessageFromJson(json: unknown): string | undefined {
  return messageOf(json, 0);
}

/** Parses Retry-After (delta-seconds or HTTP-date) into ms from now; undefined when absent/invalid. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  // Decimals are not in RFC 9110, but some rate limiters send them and the intent is unambiguous.
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  // Date.parse alone accepts too much ("foo 1" is a date to V8), so only HTTP-date shapes get through.
  let date: number;
  if (IMF_OR_RFC850_DATE.test(text)) date = Date.parse(text);
  else if (ASCTIME_DATE.test(text))
    date = Date.parse(`${text} GMT`); // asctime carries no zone but means GMT
  else return undefined;
  if (!Number.isFinite(date)) return undefined;
  return Math.max(0, date - now);
}

/** The upstream's message when a 2xx body or stream chunk is really an error object. */
export function embeddedErrorMessage(json: Record<string, unknown>): string | undefined {
  const hasError = (json.error !== undefined && json.error !== null) || json.success === false;
  if (!hasError) return undefined;
  return errorMessageFromJson(json) ?? clip(JSON.stringify(json), MAX_EXCERPT);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------

const IMF_OR_RFC850_DATE = /^[A-Za-z]{3,9}, \d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]?\d \d{2}:\d{2}:\d{2} \d{4}$/;
const MAX_EXCERPT = 200;
// Upstream JSON messages (context-length errors, validation errors) are often longer than an
// excerpt but still worth reading whole; the cap only guards against bodies that dump inputs.
const MAX_JSON_MESSAGE = 500;

function messageOf(value: unknown, depth: number): string | undefined {
  if (depth > 4) return undefined;
  if (typeof value === 'string') return nonBlank(value);
  if (Array.isArray(value)) {
    const parts = value.map((v) => messageOf(v, depth + 1)).filter((m): m is string => m !== undefined);
    return parts.length > 0 ? parts.join('; ') : undefined;
  }
  if (!isRecord(value)) return undefined;
  // `error` first: Pollinations puts {status, success, error:{message}} and HF puts {error:"…"}.
  for (const key of ['error', 'errors', 'message', 'detail', 'msg']) {
    const found = messageOf(value[key], depth + 1);
    if (found !== undefined) return found;
  }
  // An error object with only a code still says something.
  return typeof value.code === 'string' ? nonBlank(value.code) : undefined;
}

function nonBlank(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed;
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short readable excerpt of a non-JSON body; HTML is reduced to its visible text. */
function excerpt(text: string): string {
  let plain = text;
  if (/<[a-z!/][^>]*>/i.test(text)) {
    plain = text
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(script|style|template)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<[^>]*>/g, ' ');
    plain = decodeEntities(plain);
  }
  return clip(plain.replace(/\s+/g, ' ').trim(), MAX_EXCERPT);
}

const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
  ['nbsp', ' '],
]);

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES.get(name.toLowerCase()) ?? whole;
  });
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  // Never leave half a surrogate pair before the ellipsis.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut).trimEnd()}…`;
}

/** How an attempt failed, by its stable code (see AttemptCode): an HTML page, a 5xx, a timeout and a network error told apart. */
export function attemptCode(err: UpstreamError): Exclude<AttemptCode, 'ok' | 'skipped_cooling'> {
  if (err.html || (err.kind === 'invalid' && /\bHTML\b/.test(err.message))) return 'upstream_html';
  switch (err.kind) {
    case 'aborted':
      return 'aborted';
    case 'timeout':
      return 'upstream_timeout';
    case 'network':
      return 'network_error';
    case 'invalid':
      return 'invalid_answer';
  }
  const status = err.status ?? 0;
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth_failed';
  if (status === 402) return 'payment_required';
  return status >= 500 ? 'upstream_5xx' : 'upstream_4xx';
}

/** "timeout: …", "HTTP 500: …", "invalid: …", kept short for log lines, error messages and stored results. */
export function shortReason(err: UpstreamError, maxChars = 160): string {
  const text = err.kind === 'http' ? err.message : `${err.kind}: ${err.message}`;
  return text.length > maxChars ? text.slice(0, maxChars - 3) + '…' : text;
}
