import type { AttemptSummary, RequestLogEntry } from '#contracts';
import { formatCount, formatDuration } from '../../core/format';
import { attemptCodeOf, attemptText, finalErrorText } from '../../core/attempt-text';

/** The time filter: a window ending now (re-read on every refresh), everything, or fixed from/to. */
export type TimePreset = 'all' | '15m' | '1h' | '24h' | '7d' | 'custom';

export const TIME_PRESETS: ReadonlyArray<{ value: TimePreset; label: string; ms: number | null }> = [
  { value: 'all', label: '全部时间', ms: null },
  { value: '15m', label: '近 15 分钟', ms: 15 * 60_000 },
  { value: '1h', label: '近 1 小时', ms: 3_600_000 },
  { value: '24h', label: '近 24 小时', ms: 86_400_000 },
  { value: '7d', label: '近 7 天', ms: 7 * 86_400_000 },
  { value: 'custom', label: '自定义…', ms: null },
];

/** What the status filter picks: anything, 2xx, everything else, or one HTTP status. */
export type StatusKind = '' | 'success' | 'error' | 'code';

export const PAGE_SIZES = [20, 50, 100, 200] as const;
/** The API's default page size. */
export const DEFAULT_PAGE_SIZE = 50;

/**
 * The log page's filters and position, as the URL holds them (so a reload or a shared link keeps
 * them): `?range=1h&model=…&provider=…&status=error&key=ck_…&page=2&size=100`, `from`/`to` as
 * local `YYYY-MM-DDTHH:mm` for a custom range.
 */
export interface LogQuery {
  range: TimePreset;
  /** Local date-time (`<input type="datetime-local">`'s value) or ''; custom range only. */
  from: string;
  to: string;
  model: string;
  provider: string;
  /** '', 'success', 'error' or an HTTP status ('404'). */
  status: string;
  /** A client key's id. */
  key: string;
  /** 1-based. */
  page: number;
  pageSize: number;
}

export const DEFAULT_QUERY: LogQuery = { range: 'all', from: '', to: '', model: '', provider: '', status: '', key: '', page: 1, pageSize: DEFAULT_PAGE_SIZE };

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

export function isHttpStatus(raw: string): boolean {
  return /^\d{3}$/.test(raw) && Number(raw) >= 100 && Number(raw) <= 599;
}

/** Reads the URL's query parameters; anything unknown or malformed falls back to the default. */
export function parseQuery(get: (name: string) => string | null): LogQuery {
  const text = (name: string) => (get(name) ?? '').trim();
  const range = text('range');
  const preset = TIME_PRESETS.some((p) => p.value === range) ? (range as TimePreset) : 'all';
  const from = LOCAL_DATE_TIME.test(text('from')) ? text('from') : '';
  const to = LOCAL_DATE_TIME.test(text('to')) ? text('to') : '';
  const status = text('status');
  const page = Number(text('page'));
  const size = Number(text('size'));
  return {
    // A from/to without range=custom still means a custom range.
    range: preset === 'all' && (from || to) ? 'custom' : preset,
    from: preset === 'custom' || (preset === 'all' && (from || to)) ? from : '',
    to: preset === 'custom' || (preset === 'all' && (from || to)) ? to : '',
    model: text('model'),
    provider: text('provider'),
    status: status === 'success' || status === 'error' || isHttpStatus(status) ? status : '',
    key: text('key'),
    page: Number.isInteger(page) && page >= 1 && page <= 1_000_000 ? page : 1,
    pageSize: (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_PAGE_SIZE,
  };
}

/** The URL's query parameters for a query; defaults are left out (null removes a parameter). */
export function toQueryParams(q: LogQuery): Record<string, string | null> {
  const custom = q.range === 'custom';
  return {
    range: q.range === 'all' ? null : q.range,
    from: custom && q.from ? q.from : null,
    to: custom && q.to ? q.to : null,
    model: q.model || null,
    provider: q.provider || null,
    status: q.status || null,
    key: q.key || null,
    page: q.page > 1 ? String(q.page) : null,
    size: q.pageSize !== DEFAULT_PAGE_SIZE ? String(q.pageSize) : null,
  };
}

/** Epoch ms of a local `YYYY-MM-DDTHH:mm`, or null. */
export function localToEpoch(value: string): number | null {
  if (!LOCAL_DATE_TIME.test(value)) return null;
  // A date-time without an offset is local time.
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** `YYYY-MM-DDTHH:mm` in local time, for a datetime-local input. */
export function epochToLocal(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A custom range whose start is after its end: said on the page instead of asking the API. */
export function rangeError(q: LogQuery): string | null {
  if (q.range !== 'custom') return null;
  const from = localToEpoch(q.from);
  const to = localToEpoch(q.to);
  return from !== null && to !== null && from > to ? '开始时间晚于结束时间。' : null;
}

/** `GET /api/logs` parameters for a query, a window preset ending at `now`. */
export function apiParams(q: LogQuery, now: number): Record<string, string | number> {
  const params: Record<string, string | number> = { page: q.page, pageSize: q.pageSize };
  const preset = TIME_PRESETS.find((p) => p.value === q.range);
  if (preset?.ms) params['from'] = now - preset.ms;
  if (q.range === 'custom') {
    const from = localToEpoch(q.from);
    const to = localToEpoch(q.to);
    if (from !== null) params['from'] = from;
    if (to !== null) params['to'] = to;
  }
  if (q.model) params['model'] = q.model;
  if (q.provider) params['provider'] = q.provider;
  if (q.status) params['status'] = q.status;
  if (q.key) params['clientKey'] = q.key;
  return params;
}

/** Everything but the page position: a change here goes back to page 1. */
export function filterKey(q: LogQuery): string {
  return JSON.stringify([q.range, q.from, q.to, q.model, q.provider, q.status, q.key]);
}

export function queryKey(q: LogQuery): string {
  return JSON.stringify([filterKey(q), q.page, q.pageSize]);
}

export function hasFilters(q: LogQuery): boolean {
  return filterKey(q) !== filterKey(DEFAULT_QUERY);
}

/** How many filters are set (for the phone's 筛选 button). */
export function filterCount(q: LogQuery): number {
  return [q.range !== 'all', q.model, q.provider, q.status, q.key].filter(Boolean).length;
}

export function statusKind(status: string): StatusKind {
  if (status === 'success' || status === 'error') return status;
  return isHttpStatus(status) ? 'code' : '';
}

export type Tone = 'success' | 'warning' | 'danger' | 'neutral';
export type AttemptOutcome = 'ok' | 'error' | 'skipped' | 'aborted';

export interface AttemptRow {
  /** 1-based. */
  n: number;
  provider: string;
  upstreamModel: string;
  /** The upstream key used, masked; '' when none. */
  key: string;
  status: string;
  outcome: AttemptOutcome;
  outcomeLabel: string;
  tone: Tone;
  /** What happened, in Chinese, from the attempt's code. */
  codeText: string;
  /** The upstream's (or the gateway's) own words, to read and copy; '' for a success. */
  reason: string;
  latency: string;
  /** A stream this attempt continued (STREAM_RESUME): where it picked up and why the one before broke; '' when none. */
  resumed: string;
}

export interface LogRow {
  id: string;
  entry: RequestLogEntry;
  /** 14:05:09, or 05-01 14:05:09 on another day. */
  time: string;
  fullTime: string;
  endpoint: string;
  status: string;
  statusTone: Tone;
  /** Why the status is coloured the way it is (a stream that broke after its 200, for one). */
  statusNote: string;
  provider: string;
  /** Upstream attempts that failed before one answered (skips not counted); 0 when none answered. */
  failovers: number;
  /** No provider answered: how many were tried (skips not counted). */
  failedAttempts: number;
  skipped: number;
  latency: string;
  ttft: string;
  tokens: string;
  tokensEstimated: boolean;
  tokensDetail: string;
  keyLabel: string;
  attempts: AttemptRow[];
  /** Why it failed, in Chinese (the original `entry.error` stays beside it); null when it did not. */
  errorText: string | null;
}

export const ENDPOINT_LABELS: Record<RequestLogEntry['endpoint'], string> = {
  chat: '对话',
  images: '图片',
  speech: '语音',
  responses: 'Responses',
  messages: 'Messages',
  embeddings: '嵌入',
  transcriptions: '语音识别',
};

/** Green 2xx (amber when the stream broke after it), amber 4xx, red 5xx and no answer. */
export function statusTone(status: number, error: string | null): Tone {
  if (status >= 200 && status < 300) return error ? 'warning' : 'success';
  if (status >= 400 && status < 500) return 'warning';
  return 'danger';
}

/** 'ok', 'skipped' (cooling down, never sent), 'aborted' (cut short by the request's end) or 'error', as the API's metrics tell them apart. */
export function attemptOutcome(a: AttemptSummary): AttemptOutcome {
  const code = attemptCodeOf(a);
  return code === 'ok' ? 'ok' : code === 'skipped_cooling' ? 'skipped' : code === 'aborted' ? 'aborted' : 'error';
}

const OUTCOME: Record<AttemptOutcome, { label: string; tone: Tone }> = {
  ok: { label: '成功', tone: 'success' },
  error: { label: '失败', tone: 'danger' },
  skipped: { label: '已跳过', tone: 'neutral' },
  aborted: { label: '已中止', tone: 'warning' },
};

/** A resume point in Chinese: how much the client already had, and the break (cut to a line). */
export function resumedText(point: NonNullable<AttemptSummary['resumed_after']>): string {
  const reason = point.reason.length > 120 ? `${point.reason.slice(0, 119)}…` : point.reason;
  return `续写：接在已发出的 ${point.chars} 个字符（约 ${point.tokens} 个 token）之后；上一次中断：${reason}`;
}

export function attemptRows(attempts: readonly AttemptSummary[]): AttemptRow[] {
  return attempts.map((a, i) => {
    const outcome = attemptOutcome(a);
    return {
      n: i + 1,
      provider: a.provider,
      upstreamModel: a.upstream_model,
      key: a.key ?? '',
      status: a.status === null ? '—' : String(a.status),
      outcome,
      outcomeLabel: OUTCOME[outcome].label,
      tone: OUTCOME[outcome].tone,
      codeText: attemptText(a),
      reason: outcome === 'ok' ? '' : a.reason,
      latency: outcome === 'skipped' ? '—' : formatDuration(a.latency_ms),
      resumed: a.resumed_after ? resumedText(a.resumed_after) : '',
    };
  });
}

const pad = (n: number) => String(n).padStart(2, '0');

export function formatLogTime(ts: number, now: number): { time: string; full: string } {
  const d = new Date(ts);
  const n = new Date(now);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const today = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  return {
    time: today ? clock : `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`,
    full: `${date} ${clock}.${String(d.getMilliseconds()).padStart(3, '0')}`,
  };
}

/** A request log entry as the table and the cards show it. `keyNames`: client key id → name. */
export function logRow(entry: RequestLogEntry, keyNames: ReadonlyMap<string, string>, now: number): LogRow {
  const { time, full } = formatLogTime(entry.startedAt, now);
  const attempts = attemptRows(entry.attempts);
  const tone = statusTone(entry.status, entry.error);
  const usage = entry.usage;
  const errors = attempts.filter((a) => a.outcome === 'error').length;
  return {
    id: entry.requestId,
    entry,
    time,
    fullTime: full,
    endpoint: ENDPOINT_LABELS[entry.endpoint] ?? entry.endpoint,
    status: String(entry.status),
    statusTone: tone,
    statusNote: tone === 'warning' && entry.status < 300 ? '已开始返回，但中途出错' : '',
    // Nobody answered after tries: the cell says so instead (failedAttempts).
    provider: entry.provider ?? (errors ? '' : '—'),
    failovers: entry.provider ? errors : 0,
    failedAttempts: entry.provider ? 0 : errors,
    skipped: attempts.filter((a) => a.outcome === 'skipped').length,
    latency: formatDuration(entry.latencyMs),
    ttft: formatDuration(entry.ttftMs),
    tokens: usage ? formatCount(usage.total_tokens) : '—',
    tokensEstimated: usage !== null && entry.usageEstimated,
    tokensDetail: usage
      ? `输入 ${formatCount(usage.prompt_tokens)} · 输出 ${formatCount(usage.completion_tokens)}${entry.usageEstimated ? '（上游未返回用量，按分词估算）' : ''}`
      : '没有用量数据',
    keyLabel: entry.clientKey === null ? '—' : (keyNames.get(entry.clientKey) ?? entry.clientKey),
    attempts,
    errorText: finalErrorText(entry),
  };
}
