import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type BinaryLike } from 'node:crypto';
import { promisify } from 'node:util';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import type { AdminSession } from '#contracts';

export type { AdminSession };

const scrypt = promisify(scryptCb) as (password: BinaryLike, salt: BinaryLike, keylen: number) => Promise<Buffer>;

const ADMIN_NS = 'admin';
const SESSION_NS = 'admin-session';
const KEY_LEN = 32;

interface StoredPassword {
  salt: string;
  hash: string;
}

interface StoredSession {
  expiresAt: number;
  createdAt: number;
}

/** A verified session and when storage last said so. */
interface CachedSession {
  expiresAt: number;
  checkedAt: number;
}

/**
 * A verified session is taken from memory for this long, then read again: another process (the
 * `admin` command, with the embedded store that tells this one nothing) may have ended it.
 */
const SESSION_RECHECK_MS = 1000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** Login attempts per client address: after MAX_FAILURES in WINDOW_MS, wait out the window. */
const MAX_FAILURES = 10;
const WINDOW_MS = 60_000;
/** Addresses tracked at most; past it, expired ones are swept, then the oldest dropped. */
const MAX_TRACKED = 10_000;
/**
 * The account's own backoff, whatever the address: after FREE_FAILURES failures in a row, each
 * attempt waits BACKOFF_BASE_MS, doubling per failure up to BACKOFF_MAX_MS. A delay, never a
 * refusal, so an attack from elsewhere slows the real admin down but cannot lock them out.
 */
const FREE_FAILURES = 5;
const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 3000;

/**
 * The admin password and sessions. The password is ADMIN_PASSWORD, or one made at first start,
 * stored only as an scrypt hash and printed once. Sessions are random tokens stored hashed in
 * the settings store, so they survive restarts and are shared by replicas.
 */
@Injectable()
export class AdminAuthService implements OnModuleInit {
  private readonly logger = new Logger('AdminAuth');
  private password!: StoredPassword;
  /** The password this start generated and stored, if it did. */
  private generated?: StoredPassword;
  /** Verified sessions, so the hot path does not read storage on every admin request. */
  private readonly cache = new Map<string, CachedSession>();
  /** Attempts (counted before they are checked) per client address, since the window began. */
  private readonly failures = new Map<string, { count: number; since: number }>();
  /** Failed logins in a row on the account, from any address; cleared by a success or a quiet window. */
  private accountFailures = { count: 0, last: 0 };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(STORAGE) private readonly storage: Storage,
  ) {
    storage.settings.changes.subscribe(({ namespace, key }) => {
      // '' (after a cluster reconnect): any session may have changed.
      if (namespace !== SESSION_NS) return;
      if (key) this.cache.delete(key);
      else this.cache.clear();
    });
  }

  async onModuleInit(): Promise<void> {
    if (this.config.admin.password) {
      this.password = await hashPassword(this.config.admin.password);
      return;
    }
    const stored = await this.storage.settings.get<StoredPassword>(ADMIN_NS, 'password');
    if (stored) {
      this.password = stored;
      return;
    }
    const generated = randomBytes(12).toString('base64url');
    const hashed = await hashPassword(generated);
    // Replicas starting together on a fresh Redis each make one: the first stored wins, and only
    // its maker prints it (a password printed by a replica that lost would open nothing).
    if (!(await this.storage.settings.create(ADMIN_NS, 'password', hashed))) {
      this.password = (await this.storage.settings.get<StoredPassword>(ADMIN_NS, 'password')) ?? hashed;
      this.logger.warn('No ADMIN_PASSWORD set: another replica generated the admin password just now and printed it in its own log');
      return;
    }
    this.password = hashed;
    this.generated = this.password;
    // Shown once: only its hash is kept. Setting ADMIN_PASSWORD replaces it.
    this.logger.warn(
      `No ADMIN_PASSWORD set: generated the admin password "${generated}" (shown only this once; set ADMIN_PASSWORD to choose your own, or reset it with \`npm run admin -- reset-password\`)`,
    );
  }

  /**
   * Deletes the password this start generated, if it did and it is still the stored one: a start
   * that fails after generating it (its port taken) must not leave a password nobody can read.
   */
  async forgetGeneratedPassword(): Promise<void> {
    const generated = this.generated;
    if (!generated) return;
    try {
      const stored = await this.storage.settings.get<StoredPassword>(ADMIN_NS, 'password');
      if (stored?.hash === generated.hash) await this.storage.settings.delete(ADMIN_NS, 'password');
    } catch (err) {
      // Best effort, on a start that is failing anyway: its own error is the one to show.
      this.logger.warn(`Could not delete the admin password generated by this start: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * `client` is the caller's address (req.ip, which honours TRUST_PROXY). The attempt is counted
   * before the password is checked, so parallel guesses from one address get MAX_FAILURES
   * evaluations per window, not one each.
   */
  async login(password: string, client: string): Promise<AdminSession> {
    this.countAttempt(client);
    await sleep(this.backoffMs());
    const current = await this.currentPassword();
    if (!(await matches(password, current))) {
      this.accountFailures = { count: this.accountFailures.count + 1, last: Date.now() };
      throw wrongPassword();
    }
    this.failures.delete(client);
    this.accountFailures = { count: 0, last: 0 };
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    const expiresAt = now + this.config.admin.sessionTtlMs;
    await this.storage.settings.set<StoredSession>(SESSION_NS, sha256(token), { expiresAt, createdAt: now });
    // The `admin` command may have replaced the password while this one was checked; it ends the
    // sessions it finds after storing the new one, so a session stored too late to be found goes here.
    if ((await this.currentPassword()).hash !== current.hash) {
      await this.storage.settings.delete(SESSION_NS, sha256(token));
      throw wrongPassword();
    }
    this.cache.set(sha256(token), { expiresAt, checkedAt: now });
    return { token, expiresAt };
  }

  /** The session's expiry when the token is valid; undefined otherwise. */
  async verify(token: string): Promise<number | undefined> {
    const id = sha256(token);
    const now = Date.now();
    let entry = this.cache.get(id);
    if (!entry || now - entry.checkedAt >= SESSION_RECHECK_MS) {
      const stored = await this.readSession(id, entry);
      if (stored === undefined) {
        this.cache.delete(id);
        return undefined;
      }
      entry = { expiresAt: stored, checkedAt: now };
      this.cache.set(id, entry);
    }
    if (entry.expiresAt <= now) {
      this.cache.delete(id);
      await this.storage.settings.delete(SESSION_NS, id);
      return undefined;
    }
    return entry.expiresAt;
  }

  /** The stored session's expiry; while the store cannot be read, what was last read (an outage logs nobody out). */
  private async readSession(id: string, cached: CachedSession | undefined): Promise<number | undefined> {
    try {
      return (await this.storage.settings.get<StoredSession>(SESSION_NS, id))?.expiresAt;
    } catch (err) {
      if (cached) return cached.expiresAt;
      throw err;
    }
  }

  /** ADMIN_PASSWORD's hash, or the stored one, read again each time: the `admin` command may have reset it. */
  private async currentPassword(): Promise<StoredPassword> {
    if (this.config.admin.password) return this.password;
    this.password = (await this.storage.settings.get<StoredPassword>(ADMIN_NS, 'password')) ?? this.password;
    return this.password;
  }

  async logout(token: string): Promise<void> {
    const id = sha256(token);
    this.cache.delete(id);
    await this.storage.settings.delete(SESSION_NS, id);
  }

  /** Counts one attempt from `client`, or refuses it with 429 once the address has used up its window. */
  private countAttempt(client: string): void {
    const now = Date.now();
    let f = this.failures.get(client);
    if (f && now - f.since >= WINDOW_MS) {
      this.failures.delete(client);
      f = undefined;
    }
    if (!f) {
      this.makeRoom(now);
      f = { count: 0, since: now };
      this.failures.set(client, f);
    }
    if (f.count >= MAX_FAILURES) {
      const retry = Math.max(1, Math.ceil((WINDOW_MS - (now - f.since)) / 1000));
      throw new ApiError(429, `Too many failed logins; try again in ${retry} s.`, 'rate_limit_exceeded', 'too_many_logins', null, undefined, {
        'retry-after': String(retry),
      });
    }
    f.count++;
  }

  /** Keeps the per-address table bounded: expired windows go first, then the oldest entries. */
  private makeRoom(now: number): void {
    if (this.failures.size < MAX_TRACKED) return;
    for (const [client, f] of this.failures) if (now - f.since >= WINDOW_MS) this.failures.delete(client);
    for (const client of this.failures.keys()) {
      if (this.failures.size < MAX_TRACKED) break;
      this.failures.delete(client);
    }
  }

  /** How long this attempt waits before its password is checked (the account's backoff). */
  private backoffMs(): number {
    const { count, last } = this.accountFailures;
    if (count < FREE_FAILURES || Date.now() - last >= WINDOW_MS) return 0;
    return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (count - FREE_FAILURES));
  }
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

const wrongPassword = () => new ApiError(401, 'Wrong admin password.', 'authentication_error', 'invalid_admin_password', 'password');

async function matches(password: string, stored: StoredPassword): Promise<boolean> {
  const candidate = await scrypt(password, Buffer.from(stored.salt, 'base64url'), KEY_LEN);
  return timingSafeEqual(candidate, Buffer.from(stored.hash, 'base64url'));
}

/**
 * Stores a new admin password, then ends every admin session: for the `admin` command, which
 * runs beside the service or while it is stopped. In that order, so that a login checked against
 * the old password either finds the new one when it looks again or has its session ended here.
 */
export async function resetAdminPassword(storage: Storage, password: string): Promise<{ sessionsEnded: number }> {
  await storage.settings.set(ADMIN_NS, 'password', await hashPassword(password));
  const sessions = Object.keys(await storage.settings.list(SESSION_NS));
  for (const id of sessions) await storage.settings.delete(SESSION_NS, id);
  return { sessionsEnded: sessions.length };
}

async function hashPassword(password: string): Promise<StoredPassword> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEY_LEN);
  return { salt: salt.toString('base64url'), hash: hash.toString('base64url') };
}
