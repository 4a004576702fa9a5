import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { HOUR_MS } from './stats-math.ts';
import { STATS_RETENTION_MS } from './stats.service.ts';

const DAY_MS = 24 * HOUR_MS;
/** A day's worth of deletions is split into this many steps, yielding to requests in between. */
const SLICES = 24;

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Deletes what is past its keeping time: request log entries after LOG_RETENTION_DAYS, minute
 * buckets after 48 h, hour buckets after 90 days. Runs once after startup and then daily.
 */
@Injectable()
export class StatsRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Stats');
  private running?: Promise<void>;

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: a large backlog must not hold up startup.
    void this.purge();
  }

  @Cron(CronExpression.EVERY_DAY_AT_3AM, { name: 'stats-retention' })
  async daily(): Promise<void> {
    await this.purge();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.running;
  }

  /** Runs one purge (or joins the one running); never rejects. */
  purge(now = Date.now()): Promise<void> {
    this.running ??= this.purgeAll(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async purgeAll(now: number): Promise<void> {
    try {
      const log = await this.sliced(now - this.config.stats.logRetentionDays * DAY_MS, (t) => this.storage.log.purgeBefore(t));
      const minute = await this.sliced(now - STATS_RETENTION_MS.minute, (t) => this.storage.stats.purgeBefore('minute', t));
      const hour = await this.sliced(now - STATS_RETENTION_MS.hour, (t) => this.storage.stats.purgeBefore('hour', t));
      if (log + minute + hour > 0) this.logger.log(`Retention: deleted ${log} request log entries, ${minute} minute and ${hour} hour stats rows`);
    } catch (err) {
      this.logger.warn(`Retention purge failed: ${(err as Error).message}`);
    }
  }

  /**
   * Purges before `cutoff` in steps over the last day, so that the daily run deletes about an
   * hour's rows at a time instead of holding the store (and, with SQLite, the event loop) for
   * one long delete. Whatever is older than a day goes in the first step.
   */
  private async sliced(cutoff: number, purgeBefore: (t: number) => Promise<number>): Promise<number> {
    let deleted = 0;
    for (let i = SLICES; i >= 0; i--) {
      deleted += await purgeBefore(cutoff - (i * DAY_MS) / SLICES);
      await yieldToRequests();
    }
    return deleted;
  }
}
