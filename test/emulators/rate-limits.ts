import { isProviderId, isRecord } from './types.ts';
import type { ProviderId, RateLimit } from './types.ts';

export type { RateLimit };

export interface RateLimitVerdict {
  headers: Record<string, string>;
  /** Set when the request is over the budget. */
  refuse?: { status: 429 | 402; message?: string };
}

export class RateLimitBook {
  #limits = new Map<ProviderId, RateLimit>();
  /** `<provider>|<key>|<window start>` → requests counted. */
  #counts = new Map<string, number>();

  set(limit: RateLimit): void {
    this.#limits.set(limit.provider, { ...limit });
  }

  clear(provider?: ProviderId): void {
    if (provider === undefined) this.#limits.clear();
    else this.#limits.delete(provider);
    this.#counts.clear();
  }

  list(): RateLimit[] {
    return [...this.#limits.values()].map((l) => ({ ...l }));
  }

  /** Counts one request of `key` and says what to answer; undefined when the provider has no budget. */
  take(provider: ProviderId, key: string | undefined, now: number): RateLimitVerdict | undefined {
    const limit = this.#limits.get(provider);
    if (!limit) return undefined;
    const start = Math.floor(now / limit.windowMs) * limit.windowMs;
    const id = `${provider}|${key ?? ''}|${start}`;
    const used = this.#counts.get(id) ?? 0;
    const over = used >= limit.requests;
    if (!over) this.#counts.set(id, used + 1);
    const resetMs = start + limit.windowMs - now;
    const headers: Record<string, string> =
      limit.headers === false
        ? {}
        : {
            'x-ratelimit-limit-requests': String(limit.requests),
            'x-ratelimit-remaining-requests': String(Math.max(0, limit.requests - used - (over ? 0 : 1))),
            'x-ratelimit-reset-requests': `${(resetMs / 1000).toFixed(3)}s`,
          };
    if (!over) return { headers };
    const status = limit.status ?? 429;
    if (status === 429) headers['retry-after'] = String(Math.max(1, Math.ceil(resetMs / 1000)));
    return { headers, refuse: { status, ...(limit.message === undefined ? {} : { message: limit.message }) } };
  }
}

/** Validates a budget received over the control API; returns an error message when invalid. */
export function parseRateLimit(input: unknown): RateLimit | string {
  if (!isRecord(input)) return 'rate limit must be a JSON object';
  const { provider, requests, windowMs, status, message, headers } = input;
  if (!isProviderId(provider)) return `unknown provider: ${String(provider)}`;
  if (typeof requests !== 'number' || !Number.isInteger(requests) || requests < 0) return 'requests must be a whole number >= 0';
  if (typeof windowMs !== 'number' || !Number.isInteger(windowMs) || windowMs < 1) return 'windowMs must be a whole number >= 1';
  if (status !== undefined && status !== 429 && status !== 402) return 'status must be 429 or 402';
  if (message !== undefined && typeof message !== 'string') return 'message must be a string';
  if (headers !== undefined && typeof headers !== 'boolean') return 'headers must be a boolean';
  return {
    provider,
    requests,
    windowMs,
    ...(status === undefined ? {} : { status }),
    ...(message === undefined ? {} : { message }),
    ...(headers === undefined ? {} : { headers }),
  };
}
