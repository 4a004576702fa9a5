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

/** A client key's quotas, by period: `requestsPerDay` … `tokensTotal`. */
export type ClientKeyQuotaName = 'requestsPerDay' | 'requestsPerMonth' | 'requestsTotal' | 'tokensPerDay' | 'tokensPerMonth' | 'tokensTotal';

/**
 * What a client key may do; every field optional on create and update (absent: unchanged on
 * update, none on create), `null` or `[]` for no limit.
 */
export interface ClientKeyLimits {
  /** Requests per rolling minute; null for no limit. */
  rpmLimit: number | null;
  /** Requests per day (days start at midnight in QUOTA_TIME_ZONE); null for no limit. */
  requestsPerDay: number | null;
  /** Requests per calendar month (QUOTA_TIME_ZONE); null for no limit. */
  requestsPerMonth: number | null;
  /** Requests over the key's life; null for no limit. */
  requestsTotal: number | null;
  /** Tokens (prompt + completion) per day; counted after each answer, so the last request may overshoot. */
  tokensPerDay: number | null;
  /** Tokens per calendar month. */
  tokensPerMonth: number | null;
  /** Tokens over the key's life. */
  tokensTotal: number | null;
  /** Epoch ms from which the key is refused (401 key_expired); null: never expires. */
  expiresAt: number | null;
  /** Model ids and `*` globs the key may use (the requested id or the model an alias names); [] for all. */
  allowedModels: string[];
  /** Client IPs and CIDRs (IPv4 or IPv6) the key may be used from; [] for anywhere. */
  allowedIps: string[];
  /** Requests of this key answered at once (429 concurrency_limit_exceeded beyond); null for no limit. */
  concurrencyLimit: number | null;
}

/** A client key with no limit at all (what records written before limits existed mean). */
export const NO_CLIENT_KEY_LIMITS: Readonly<ClientKeyLimits> = {
  rpmLimit: null,
  requestsPerDay: null,
  requestsPerMonth: null,
  requestsTotal: null,
  tokensPerDay: null,
  tokensPerMonth: null,
  tokensTotal: null,
  expiresAt: null,
  allowedModels: [],
  allowedIps: [],
  concurrencyLimit: null,
};

/** One quota of a client key: its limit and how much of the current period is used. */
export interface ClientKeyQuotaUsage {
  quota: ClientKeyQuotaName;
  /** null: no limit (used is still counted). */
  limit: number | null;
  used: number;
  /** limit − used, never below 0; null without a limit. */
  remaining: number | null;
  /** Epoch ms when the period ends and `used` starts again from 0; null for the key's whole life. */
  resetsAt: number | null;
}

/**
 * A client API key for `/v1`, as the console lists it (`/api/keys`). The secret itself is
 * shown once, at creation, and never again: only its SHA-256 hash is stored.
 */
export interface ClientKey extends ClientKeyLimits {
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
  revoked: boolean;
  /** Epoch ms, or null while the key is active. */
  revokedAt: number | null;
  /** Every quota (set or not) with what is used of it now. */
  quotaUsage: ClientKeyQuotaUsage[];
}

export interface ClientKeyList {
  /** Newest first. */
  data: ClientKey[];
}

/** Limits as a request sets them: any subset, and the lists may also be null (meaning []). */
export interface ClientKeyLimitsChange extends Partial<Omit<ClientKeyLimits, 'allowedModels' | 'allowedIps'>> {
  allowedModels?: string[] | null;
  allowedIps?: string[] | null;
}

/** `POST /api/keys`: a name, and any limits (absent or null: none). */
export interface CreateClientKeyRequest extends ClientKeyLimitsChange {
  name: string;
}

/** `PATCH /api/keys/:id`: absent fields stay as they are; null (or [] for lists) removes a limit. */
export interface UpdateClientKeyRequest extends ClientKeyLimitsChange {
  name?: string;
}

/** `GET /v1/key`: the key a client sent, as its holder may see it. */
export interface ClientKeyInfo extends ClientKeyLimits {
  object: 'client_key';
  id: string;
  name: string;
  /** The IANA time zone days and months are counted in. */
  quotaTimeZone: string;
  quotaUsage: ClientKeyQuotaUsage[];
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

/** `GET /api/stats/breakdown`: one dimension's busiest values over a range, the rest summed into `others`. */
export interface StatsBreakdownResponse {
  range: StatsRange;
  dimension: StatsBreakdownDimension;
  /** The range's bounds (epoch ms, `from` inclusive, `to` exclusive), aligned to the buckets read. */
  from: number;
  to: number;
  generatedAt: number;
  /** Values with traffic in the range, `items` and `others` together. */
  distinct: number;
  /** At most `limit` values, most requests first (counted as in StatsResponse's breakdowns). */
  items: StatsBreakdownItem[];
  /** The values beyond `items`, summed; null when none was left out. */
  others: StatsSummary | null;
}

/**
 * `GET /api/stats/providers/{name}/models`: one provider's upstream attempts per model over a range
 * (counted as StatsResponse's `providers`: attempts, tokens and TTFT of the ones that answered).
 */
export interface ProviderModelStats {
  provider: string;
  range: StatsRange;
  from: number;
  to: number;
  generatedAt: number;
  /** Models with attempts in the range. */
  distinct: number;
  /** `value` is the model id; most attempts first, at most 100. */
  items: StatsBreakdownItem[];
}

/** `GET /api/stats/keys/{id}`: one client key's usage over time (value '' is the requests made without a client key). */
export interface KeyUsageResponse extends Pick<StatsResponse, 'range' | 'granularity' | 'bucketMs' | 'from' | 'to' | 'generatedAt' | 'totals' | 'series'> {
  key: string;
}

/** `GET /api/logs`: newest first; each entry lists every attempt. */
export interface RequestLogPage {
  page: number;
  pageSize: number;
  /** Entries matching the filters, on every page. */
  total: number;
  items: RequestLogEntry[];
}

/**
 * `GET /v1/dashboard/billing/subscription`, in the shape one-api serves (ChatBox, NextChat read
 * it to show a key's balance). Amounts are tokens, not dollars (see docs/api.md).
 */
export interface BillingSubscription {
  object: 'billing_subscription';
  has_payment_method: boolean;
  soft_limit_usd: number;
  hard_limit_usd: number;
  system_hard_limit_usd: number;
  /** Epoch seconds the key expires at; 0 when it never does. */
  access_until: number;
}

/** `GET /v1/dashboard/billing/usage`, as one-api serves it: what is used of the same quota, in hundredths. */
export interface BillingUsage {
  object: 'list';
  /** Used tokens × 100 (OpenAI's cents). */
  total_usage: number;
}
