import { createHash } from 'node:crypto';
import type { ChatCompletionRequest, Usage } from '#contracts';
import type { ChatEvent } from '../providers/provider-adapter.ts';

/** One cached answer: who served it, its events as the failover core yielded them, and its usage. */
export interface CachedAnswer {
  provider: string;
  upstreamModel: string;
  /** The catalog model that served, and the alias it was asked by (for the request log). */
  model: string;
  alias: string | null;
  events: ChatEvent[];
  usage: Usage | null;
}

/**
 * Fields that shape how an answer is delivered or who asked, not what it says: requests that
 * differ only in them share an entry (a stream and a non-stream request of one prompt, too).
 */
const DELIVERY_FIELDS = new Set(['stream', 'stream_options', 'user', 'prompt_cache_key', 'metadata', 'store', 'service_tier']);

/** JSON with object keys sorted, so that two requests differing only in key order are one key. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The entry's key: the front door (each renders the same events its own way, and the Responses
 * API's body carries its earlier turns), the client's scope (one client never reads another's
 * answers) and the request without its delivery fields.
 */
export function cacheKey(endpoint: string, scope: string, body: ChatCompletionRequest): string {
  const normalized = Object.fromEntries(Object.entries(body).filter(([k]) => !DELIVERY_FIELDS.has(k)));
  return createHash('sha256')
    .update(`v1\n${endpoint}\n${scope}\n${canonical(normalized)}`)
    .digest('base64url');
}

/**
 * Whether the request asks for a reproducible answer: temperature 0, a `seed`, or a model the
 * operator caches whatever the request says. Any other answer is a sample, and serving the same
 * sample twice would take away what the client asked for.
 */
export function deterministic(body: ChatCompletionRequest, forcedModels: readonly string[]): boolean {
  const params = body as unknown as Record<string, unknown>;
  if (params.temperature === 0 || (params.seed !== undefined && params.seed !== null)) return true;
  const model = body.model.toLowerCase();
  return forcedModels.some((m) => m.toLowerCase() === model);
}

/** How the request's Cache-Control treats the cache: `no-cache` asks afresh (and refreshes the entry), `no-store` leaves it alone. */
export function cacheControl(header: string | undefined): 'use' | 'refresh' | 'skip' {
  const directives = (header ?? '').toLowerCase().slice(0, 200);
  if (/\bno-store\b/.test(directives)) return 'skip';
  if (/\bno-cache\b/.test(directives)) return 'refresh';
  return 'use';
}

/**
 * Gathers the events of one answer as they go by, up to `maxBytes` of them (JSON), for the cache.
 * An answer that calls a tool is never kept: a tool call's id must be new in a conversation
 * (agents pair results with calls by it, and a replayed id collides with the earlier turn's),
 * and the call acts on the world, which the client may expect to see acted on again.
 */
export class AnswerRecorder {
  readonly events: ChatEvent[] = [];
  private bytes = 0;
  private spoiled = false;

  constructor(private readonly maxBytes: number) {}

  add(event: ChatEvent): void {
    if (this.spoiled) return;
    if (event.type === 'delta' && event.toolCalls?.length) return this.spoil();
    this.bytes += JSON.stringify(event).length;
    if (this.bytes > this.maxBytes) return this.spoil();
    this.events.push(event);
  }

  /** Whether every event is here and none rules the answer out. */
  get keepable(): boolean {
    return !this.spoiled && this.events.length > 0;
  }

  private spoil(): void {
    this.spoiled = true;
    this.events.length = 0;
  }
}

/** A stored entry read back: undefined when it is not a CachedAnswer (another version wrote it, say). */
export function parseEntry(json: string): CachedAnswer | undefined {
  try {
    const entry = JSON.parse(json) as Partial<CachedAnswer>;
    const ok = typeof entry.provider === 'string' && typeof entry.upstreamModel === 'string' && typeof entry.model === 'string' && Array.isArray(entry.events);
    return ok ? (entry as CachedAnswer) : undefined;
  } catch {
    return undefined;
  }
}
