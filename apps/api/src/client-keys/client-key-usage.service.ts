import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { PoolEvents, type RequestRecord } from '../events/pool-events.service.ts';
import { ClientKeysService, addUsage, type StoredUsage } from './client-keys.service.ts';

/** How often buffered usage is written. */
export const USAGE_FLUSH_MS = 2_000;

/**
 * Keeps each client key's requests, tokens and last use from the PoolEvents stream. Nothing
 * happens on the request path but adding to a map; the totals are written every
 * USAGE_FLUSH_MS and once more at shutdown (before the store closes).
 */
@Injectable()
export class ClientKeyUsageRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('ClientKeyUsage');
  private pending = new Map<string, StoredUsage>();
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  /** Whether the last write failed (storage unreachable): said once, and again when it recovers. */
  private failing = false;

  constructor(
    private readonly events: PoolEvents,
    private readonly keys: ClientKeysService,
  ) {}

  onModuleInit(): void {
    this.subscription = this.events.requests.subscribe((record) => this.record(record));
    this.timer = setInterval(() => void this.flush(), USAGE_FLUSH_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
    await this.flush();
  }

  private record(record: RequestRecord): void {
    if (!record.clientKey) return;
    const usage = this.pending.get(record.clientKey) ?? { requests: 0, tokens: 0, lastUsedAt: null };
    usage.requests++;
    usage.tokens += record.usage?.total_tokens ?? 0;
    usage.lastUsedAt = Math.max(usage.lastUsedAt ?? 0, record.startedAt);
    this.pending.set(record.clientKey, usage);
    const tokens = record.usage?.total_tokens ?? 0;
    if (tokens > 0) {
      this.keys
        .countTokens(record.clientKey, tokens)
        .catch((err: unknown) => this.logger.warn(`Could not count tokens against quotas: ${(err as Error).message}`));
    }
  }

  /** Writes what has accumulated; batches never overlap. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      for (const [id, usage] of batch) {
        try {
          await this.keys.addUsage(id, usage);
          if (this.failing) this.logger.log('Client key usage is being written again');
          this.failing = false;
        } catch (err) {
          // Once per outage, not once per key every flush.
          if (!this.failing) this.logger.warn(`Could not write client key usage (kept, retried every ${USAGE_FLUSH_MS / 1000} s): ${(err as Error).message}`);
          this.failing = true;
          // Back into the buffer, merged with whatever arrived meanwhile, for the next flush.
          const later = this.pending.get(id);
          this.pending.set(id, later ? addUsage(later, usage) : usage);
        }
      }
    });
    return this.writing;
  }
}
