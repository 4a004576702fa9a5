import { Logger } from '@nestjs/common';
import { within } from '../common/within.ts';

/** Where cached answers live: in this process or a SQLite file (embedded mode), or in Redis (cluster mode). */
export interface CacheStore {
  /** The entry's JSON, unless it is missing or expired at `now` (epoch ms). */
  get(key: string, now: number): Promise<string | undefined>;
  /** Stores `json` until `expiresAt`, evicting the oldest entries beyond the store's total cap. */
  put(key: string, json: string, expiresAt: number, now: number): Promise<void>;
  /** Every entry's bytes and how many there are, for the console. */
  size(now: number): Promise<{ entries: number; bytes: number }>;
  /** Readies a store that opens a file (SQLite); the others are ready from the start. */
  open?(): Promise<void>;
  /** Waits for the writes under way and lets the store's resources go. */
  close?(): Promise<void>;
}

interface MemoryEntry {
  json: string;
  bytes: number;
  expiresAt: number;
}

/**
 * An LRU of JSON entries bounded in bytes: a hit moves an entry to the back, a put evicts from
 * the front (least recently used) until the new entry fits. Expired entries are dropped when met
 * and count against the cap until then, so the cap holds whatever the clock does.
 */
export class MemoryCacheStore implements CacheStore {
  private readonly entries = new Map<string, MemoryEntry>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string, now: number): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return Promise.resolve(undefined);
    this.entries.delete(key);
    if (entry.expiresAt <= now) {
      this.bytes -= entry.bytes;
      return Promise.resolve(undefined);
    }
    this.entries.set(key, entry);
    return Promise.resolve(entry.json);
  }

  put(key: string, json: string, expiresAt: number): Promise<void> {
    const bytes = Buffer.byteLength(json);
    this.remove(key);
    if (bytes > this.maxBytes) return Promise.resolve();
    for (const oldest of this.entries.keys()) {
      if (this.bytes + bytes <= this.maxBytes) break;
      this.remove(oldest);
    }
    this.entries.set(key, { json, bytes, expiresAt });
    this.bytes += bytes;
    return Promise.resolve();
  }

  size(now: number): Promise<{ entries: number; bytes: number }> {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.remove(key);
    return Promise.resolve({ entries: this.entries.size, bytes: this.bytes });
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

/**
 * A store call on the request path that takes longer than `ms` counts as a miss (or a write not
 * made): a slow Redis must cost a request at most this, never its answer. Failures are logged
 * once per outage.
 */
export class FailOpen {
  private failing = false;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
    private readonly ms: number,
  ) {}

  async run<T>(call: () => Promise<T>, fallback: T): Promise<T> {
    try {
      const value = await within(this.ms, call());
      if (this.failing) this.logger.log(`${this.what} works again`);
      this.failing = false;
      return value;
    } catch (err) {
      if (!this.failing) this.logger.warn(`${this.what} failed (${String((err as Error)?.message ?? err).slice(0, 200)}): going on without it`);
      this.failing = true;
      return fallback;
    }
  }
}
