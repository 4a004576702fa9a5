/** Number and time formatting for the console, in Chinese conventions (万 / 亿, 24-hour clock). */

const DASH = '—';

/** 1,234 · 1.2 万 · 3.4 亿 */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  const abs = Math.abs(n);
  if (abs >= 1e8) return `${trim(n / 1e8)} 亿`;
  if (abs >= 1e4) return `${trim(n / 1e4)} 万`;
  return Math.round(n).toLocaleString('zh-CN');
}

/** One decimal, none when it is .0: 1.2, 3. */
function trim(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** A 0..1 ratio as a percentage: 99.5%, 100%, —. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return DASH;
  const pct = ratio * 100;
  if (pct === 100 || pct === 0) return `${pct}%`;
  return `${pct >= 99.95 ? '99.9' : pct.toFixed(1)}%`;
}

/** 850 ms · 1.2 s · 1 分 5 秒 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} 分 ${s % 60} 秒`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** 14:05:09 */
export function formatClock(ts: number): string {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A chart axis label for a bucket start: 14:05 for minute buckets, 11-26 14:00 for hours. */
export function formatBucket(ts: number, bucketMs: number): string {
  const d = new Date(ts);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return bucketMs < 3_600_000 ? hm : `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** 刚刚 · 12 秒前 · 5 分钟前 · 3 小时前 · 2 天前 */
export function formatRelative(ts: number | null | undefined, now = Date.now()): string {
  if (ts === null || ts === undefined) return DASH;
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 5) return '刚刚';
  if (s < 60) return `${s} 秒前`;
  if (s < 3600) return `${Math.floor(s / 60)} 分钟前`;
  if (s < 86_400) return `${Math.floor(s / 3600)} 小时前`;
  return `${Math.floor(s / 86_400)} 天前`;
}
