import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { HOUR_MS } from './stats-math.ts';
import { STATS_RETENTION_MS } from './stats.service.ts';

const DAY_MS = 24 * HOUR_MS;
const MINUTE_MS = 60_000;
/** A day's worth of deletions is split into this many steps, yielding to requests in between. */
const SLICES = 24;

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/** When the daily purge runs: 03:00 local time, as the cron job it replaces did. */
const DAILY_HOUR = 3;

/**
 * The next 03:00 on the local clock after `now`. A plain timer instead of @Cron: a cron job's
 * schedule is computed with luxon, whose first Intl.DateTimeFormat loads ICU's locale and zone
 * data (~7 MB of RSS) for this one daily timer.
 */
export function nextDailyRun(now: number): number {
  const d = new Date(now);
  const today = new Date(d.getFullYear(), d.getMonth(), d.getDate(), DAILY_HOUR).getTime();
  return today > now ? today : new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1, DAILY_HOUR).getTime();
}

/**
 * Deletes what is past its keeping time: request log entries after LOG_RETENTION_DAYS, minute
 * buckets after 48 h, hour buckets after 90 days. Runs once after startup and then daily.
 */
@Injectable()
export class StatsRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Stats');
  private running?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: a large backlog must not hold up startup.
    void this.purge();
    this.scheduleDaily();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Arms the timer for the next 03:00 after `from` (a minute on when re-arming, so that a timer run a hair early never runs twice). */
  private scheduleDaily(from = Date.now()): void {
    this.timer = setTimeout(
      () => {
        void this.purge().finally(() => {
          if (this.timer) this.scheduleDaily(Date.now() + MINUTE_MS);
        });
      },
      nextDailyRun(from) - Date.now(),
    );
    // Never what keeps the process alive.
    this.timer.unref();
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
