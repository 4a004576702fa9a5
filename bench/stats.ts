// Statistics and scheduling math for the benchmark. Pure functions, unit-tested in
// test/bench-stats.e2e-spec.ts; nothing here touches the network or the clock.

/**
 * Nearest-rank percentile (p in 0..100) of the values: the smallest value with at least p% of
 * the samples at or below it. p = 0 is the minimum, p = 100 the maximum; no interpolation, so
 * the answer is always a value that was actually measured. NaN for an empty list.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return percentileOfSorted(sorted, p);
}

/** percentile() of an already ascending list (no copy, no sort). */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n, Math.max(1, rank)) - 1];
}

/** The middle value; the mean of the two middle values for an even count. NaN for an empty list. */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
  };
}

/**
 * Median of the per-round differences gateway[i] - direct[i]. The rounds alternate, so round i
 * of both ran under about the same machine load; pairing them cancels slow drifts in that load.
 */
export function medianPairedDifference(gateway: readonly number[], direct: readonly number[]): number {
  if (gateway.length !== direct.length) throw new RangeError(`paired lists differ in length: ${gateway.length} vs ${direct.length}`);
  return median(gateway.map((g, i) => g - direct[i]));
}

/** Median of the per-round ratios gateway[i] / direct[i]. */
export function medianPairedRatio(gateway: readonly number[], direct: readonly number[]): number {
  if (gateway.length !== direct.length) throw new RangeError(`paired lists differ in length: ${gateway.length} vs ${direct.length}`);
  return median(gateway.map((g, i) => g / direct[i]));
}

// ---- open-loop (fixed-rate) scheduling ---------------------------------------------------
//
// A fixed-rate load generator must send request i at start + i/rate whether or not earlier
// requests have been answered, and measure each latency from that intended time. Measuring from
// the actual send time, or waiting for answers before sending more, hides exactly the queueing
// a slow server causes ("coordinated omission").

/** When request `index` (0-based) is due, in the same clock as `startMs`. */
export function intendedSendTime(startMs: number, index: number, ratePerSec: number): number {
  return startMs + (index * 1000) / ratePerSec;
}

/**
 * How many requests are due by `nowMs`: request i is due once now >= intendedSendTime(i), so at
 * now = start exactly one (request 0) is due. Capped at `total`; 0 before the start.
 */
export function dueCount(startMs: number, nowMs: number, ratePerSec: number, total: number): number {
  if (nowMs < startMs) return 0;
  // The epsilon keeps 0.1 + 0.2-style float error from making an exactly-due request wait a tick.
  const due = Math.floor(((nowMs - startMs) * ratePerSec) / 1000 + 1e-9) + 1;
  return Math.min(total, due);
}

/** Latency as an open-loop client sees it: from when the request should have gone out. */
export function latencyFromIntended(intendedMs: number, doneMs: number): number {
  return doneMs - intendedMs;
}

/** Requests in a fixed-rate run of `seconds`. */
export function requestsForDuration(ratePerSec: number, seconds: number): number {
  return Math.max(1, Math.round(ratePerSec * seconds));
}
