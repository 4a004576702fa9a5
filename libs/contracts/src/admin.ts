import type { AttemptSummary, Usage } from './openai.ts';

/** What happened to one client request: the events hook's record and a request log row. */
export interface RequestLogEntry {
  requestId: string;
  endpoint: 'chat' | 'images' | 'speech' | 'responses' | 'messages' | 'embeddings' | 'transcriptions';
  model: string;
  stream: boolean;
  /** Epoch ms. */
  startedAt: number;
  /** HTTP status the client got (200 for a stream that started, even if it broke later). */
  status: number;
  provider: string | null;
  upstreamModel: string | null;
  latencyMs: number;
  /** Time to the first content, for streams and non-streams alike. */
  ttftMs: number | null;
  usage: Usage | null;
  usageEstimated: boolean;
  attempts: AttemptSummary[];
  error: string | null;
  /** A client key's id (never its secret), or null. */
  clientKey: string | null;
  /**
   * The alias pattern the requested id matched (`claude-*`), `model` being the catalog model it
   * led to; absent or null when the client named a catalog model (and in records from before aliases).
   */
  alias?: string | null;
}

/**
 * A client API key for `/v1`, as the console lists it (`/api/keys`). The secret itself is
 * shown once, at creation, and never again: only its SHA-256 hash is stored.
 */
export interface ClientKey {
  /** Stable id; request log rows and stats refer to the key by it. */
  id: string;
  name: string;
  /** `sk-g4f-…wxyz` (at most the last 4 characters of the secret): enough to recognise a key, not to use it. */
  maskedKey: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last recorded request, or null; usage is written in batches, a few seconds late. */
  lastUsedAt: number | null;
  requests: number;
  /** Total tokens (prompt + completion) of the recorded requests. */
  tokens: number;
  /** Requests per rolling minute; null for no limit. */
  rpmLimit: number | null;
  revoked: boolean;
  /** Epoch ms, or null while the key is active. */
  revokedAt: number | null;
}

export interface ClientKeyList {
  /** Newest first. */
  data: ClientKey[];
}

/** `POST /api/keys`. */
export interface CreateClientKeyRequest {
  name: string;
  /** A positive integer; null or absent for no limit. */
  rpmLimit?: number | null;
}

/** `PATCH /api/keys/:id`: absent fields stay as they are; `rpmLimit: null` removes the limit. */
export interface UpdateClientKeyRequest {
  name?: string;
  rpmLimit?: number | null;
}

/** The answer to `POST /api/keys`: the record plus the full secret, which is never shown again. */
export interface CreatedClientKey extends ClientKey {
  /** `sk-g4f-` followed by 43 random base64url characters. */
  secret: string;
}

/** `GET /api/stats?range=`: how far back the report looks, ending now. */
export type StatsRange = '1h' | '6h' | '24h' | '7d' | '30d' | '90d';
/** Minute buckets are kept 48 h, hour buckets 90 days. */
export type StatsGranularity = 'minute' | 'hour';
/** `GET /api/stats?dimension=`: which breakdown also gets a time series per value. */
export type StatsBreakdownDimension = 'provider' | 'model' | 'key';

/**
 * Counters of one time bucket. A request succeeds when its HTTP status is 2xx (the same rule as
 * the request log's `status=success` filter). Percentiles come from merged latency histograms,
 * interpolated inside a bucket; null when nothing was measured.
 */
export interface StatsPoint {
  /** Bucket start, epoch ms. */
  bucket: number;
  requests: number;
  successes: number;
  failures: number;
  /** successes / requests (0..1); null without requests. */
  successRate: number | null;
  promptTokens: number;
  completionTokens: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
}

/** Aggregates over a whole range: a point's fields without its bucket, plus averages and p99. */
export interface StatsSummary extends Omit<StatsPoint, 'bucket'> {
  totalTokens: number;
  latencyAvgMs: number | null;
  latencyP99Ms: number | null;
  ttftAvgMs: number | null;
  ttftP99Ms: number | null;
}

/**
 * One value of a breakdown. For `providers` the counts are upstream attempts (a request that
 * failed over from A to B counts one failure for A and one success for B; attempts skipped
 * because a provider was cooling down are not counted); tokens and TTFT belong to the provider
 * that answered. For `models` and `keys` they are client requests. In `keys`, value '' gathers
 * the requests made without a client key.
 */
export interface StatsBreakdownItem extends StatsSummary {
  value: string;
}

export interface StatsSeries {
  value: string;
  points: StatsPoint[];
}

/** `GET /api/stats`. Includes requests not yet written to storage, so the numbers are live. */
export interface StatsResponse {
  range: StatsRange;
  granularity: StatsGranularity;
  /** Bucket size in ms (60 000 or 3 600 000). */
  bucketMs: number;
  /** Start of the first bucket (epoch ms, inclusive); the range is aligned to whole buckets. */
  from: number;
  /** End of the last bucket (epoch ms, exclusive); the last bucket is the current, partial one. */
  to: number;
  generatedAt: number;
  totals: StatsSummary;
  /** Every bucket in [from, to), oldest first, zero-filled. */
  series: StatsPoint[];
  /** Sorted by requests, most first. */
  providers: StatsBreakdownItem[];
  models: StatsBreakdownItem[];
  keys: StatsBreakdownItem[];
  /** The `dimension` asked for, or null. */
  dimension: StatsBreakdownDimension | null;
  /** One zero-filled series per value of `dimension`, for its 10 busiest values in breakdown order; [] without one. */
  seriesBy: StatsSeries[];
}

/** `GET /api/logs`: newest first; each entry lists every attempt. */
export interface RequestLogPage {
  page: number;
  pageSize: number;
  /** Entries matching the filters, on every page. */
  total: number;
  items: RequestLogEntry[];
}
