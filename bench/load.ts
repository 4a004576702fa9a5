// Load patterns: closed loop (N workers, each sends its next request when the last one is done)
// and open loop (fixed rate, sent on a timer regardless of answers).
import { performance } from 'node:perf_hooks';
import type { Exchange, LoadClient, Target } from './client.ts';
import { selfCpuMs } from './proc.ts';
import { dueCount, intendedSendTime, latencyFromIntended, requestsForDuration } from './stats.ts';

/** undefined when the exchange is a whole, correct answer; else what went wrong. */
export type Verifier = (exchange: Exchange) => string | undefined;

export interface RunResult {
  /** Correct answers completed inside the measured window, per second. */
  throughput: number;
  /** Answers that failed verification (or never came), inside the measured window. */
  errors: number;
  firstError?: string;
  /** ms, request start (closed loop) or intended send time (open loop) to the end of the body. */
  latencies: number[];
  /** ms to the first body bytes carrying "data:" (streams), from the request start (closed loop) or the intended send time (open loop). */
  ttfbs: number[];
  /** Length of the measured window, ms. */
  windowMs: number;
  /** CPU this (load generator) process used per measured answer, µs. */
  clientCpuUsPerRequest: number;
  /** Open loop only: how late the client itself sent requests (ms, p99 in the summary). */
  sendLags?: number[];
  /** Every answer the run received, warmup included (for CPU per request of the servers). */
  exchanges: number;
}

export interface ClosedLoopOptions {
  client: LoadClient;
  target: Target;
  body: string;
  verify: Verifier;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

/**
 * `concurrency` workers send back to back for warmup + duration. Throughput counts the answers that
 * end inside the measured window; latencies are those of requests that start and end inside it.
 */
export async function closedLoop(o: ClosedLoopOptions): Promise<RunResult> {
  const begin = performance.now();
  const windowStart = begin + o.warmupMs;
  const windowEnd = windowStart + o.durationMs;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  let cpuAtStart: number | undefined;
  let cpuAtEnd: number | undefined;
  let exchanges = 0;

  const worker = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      const ex = await o.client.send(o.target, o.body);
      exchanges++;
      if (cpuAtStart === undefined && ex.endMs >= windowStart) cpuAtStart = selfCpuMs();
      if (ex.endMs < windowStart || ex.endMs > windowEnd) continue;
      cpuAtEnd = selfCpuMs();
      const problem = ex.error ?? (ex.status === 200 ? o.verify(ex) : `HTTP ${ex.status}: ${ex.body.slice(0, 200)}`);
      if (problem !== undefined) {
        errors++;
        firstError ??= problem;
        continue;
      }
      completed++;
      if (ex.startMs >= windowStart) {
        latencies.push(ex.endMs - ex.startMs);
        if (ex.firstDataMs > 0) ttfbs.push(ex.firstDataMs - ex.startMs);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const counted = completed + errors;
  const cpu = cpuAtStart !== undefined && cpuAtEnd !== undefined && counted > 0 ? ((cpuAtEnd - cpuAtStart) * 1000) / counted : Number.NaN;
  return { throughput: (completed * 1000) / o.durationMs, errors, firstError, latencies, ttfbs, windowMs: o.durationMs, clientCpuUsPerRequest: cpu, exchanges };
}

export interface OpenLoopOptions {
  client: LoadClient;
  target: Target;
  body: string;
  verify: Verifier;
  ratePerSec: number;
  warmupMs: number;
  durationMs: number;
  /** Give up on an answer after this long (it counts as an error). */
  timeoutMs: number;
  /** Called as the first measured request is sent (after the warmup). */
  onWindowStart?: () => void;
}

/**
 * Sends request i at start + i/rate on a timer, whether or not earlier ones have been answered,
 * and measures each latency from that intended time, so a stalled server shows as latency instead
 * of as fewer requests (no coordinated omission). Requests due during warmup are not measured.
 */
export async function openLoop(o: OpenLoopOptions): Promise<RunResult> {
  const warmupCount = requestsForDuration(o.ratePerSec, o.warmupMs / 1000);
  const total = warmupCount + requestsForDuration(o.ratePerSec, o.durationMs / 1000);
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  const sendLags: number[] = [];
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const pending: Promise<void>[] = [];
  let cpuAtStart = Number.NaN;
  const start = performance.now() + 1;
  let sent = 0;

  const fire = (index: number): void => {
    const intended = intendedSendTime(start, index, o.ratePerSec);
    if (index === warmupCount) {
      cpuAtStart = selfCpuMs();
      o.onWindowStart?.();
    }
    const measured = index >= warmupCount;
    if (measured) sendLags.push(performance.now() - intended);
    pending.push(
      o.client.send(o.target, o.body, { timeoutMs: o.timeoutMs }).then((ex) => {
        if (!measured) return;
        const problem = ex.error ?? (ex.status === 200 ? o.verify(ex) : `HTTP ${ex.status}: ${ex.body.slice(0, 200)}`);
        if (problem !== undefined) {
          errors++;
          firstError ??= problem;
          return;
        }
        completed++;
        latencies.push(latencyFromIntended(intended, ex.endMs));
        // A stream's first event, also from when the request was due: a stalled gateway delays it as much.
        if (ex.firstDataMs > 0) ttfbs.push(latencyFromIntended(intended, ex.firstDataMs));
      }),
    );
  };

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = dueCount(start, performance.now(), o.ratePerSec, total);
      while (sent < due) fire(sent++);
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, intendedSendTime(start, sent, o.ratePerSec) - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  await Promise.all(pending);
  const cpuAtEnd = selfCpuMs();
  const measuredCount = total - warmupCount;
  return {
    throughput: (completed * 1000) / o.durationMs,
    errors,
    firstError,
    latencies,
    ttfbs,
    windowMs: o.durationMs,
    clientCpuUsPerRequest: ((cpuAtEnd - cpuAtStart) * 1000) / measuredCount,
    sendLags,
    exchanges: total,
  };
}
