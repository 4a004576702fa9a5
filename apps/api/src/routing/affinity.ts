import { hash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ChatCompletionRequest, ChatMessage } from '#contracts';
import { FailOpen } from '../cache/cache-store.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { REDIS_CONNECTION } from '../storage/storage.ts';
import type { Candidate } from './router.service.ts';

/** The route that last answered a conversation: the provider, its model id and the key used. */
export interface PinnedRoute {
  provider: string;
  upstreamModel: string;
  keyId: string;
}

/** A lookup slower than this goes without affinity: the request is routed as usual. */
const STORE_DEADLINE_MS = 250;
const MAX_SESSION_ID = 512;

const text = (m: ChatMessage | undefined): string => (m === undefined ? '' : typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? null));

/** A request's conversation, and whether the request goes on with one (so that its route is looked up). */
export interface Session {
  key: string;
  continues: boolean;
}

/**
 * What names the conversation a request belongs to: the client's own `prompt_cache_key`, an
 * `x-session-id` header or `user`, else the system prompt and first user turn, which every turn
 * of a chat resends unchanged. Undefined when there is nothing to go by (no user turn).
 *
 * A conversation known only by its opening continues once the request carries an earlier answer:
 * a first turn is routed as usual (and its route remembered), so that many clients sending one
 * same prompt still spread over the pool instead of all following the first one's route.
 */
export function conversationOf(body: ChatCompletionRequest, sessionHeader: string | undefined): { id: string; continues: boolean } | undefined {
  const params = body as unknown as Record<string, unknown>;
  const named = [params.prompt_cache_key, sessionHeader, params.user].find((v): v is string => typeof v === 'string' && v.length > 0);
  if (named !== undefined) return { id: `named:${named.slice(0, MAX_SESSION_ID)}`, continues: true };
  const system = body.messages.filter((m) => m.role === 'system' || m.role === 'developer').map(text);
  const first = body.messages.find((m) => m.role === 'user');
  if (!first) return undefined;
  const id = `opening:${hash('sha256', JSON.stringify([system, text(first)]), 'base64url')}`;
  return { id, continues: body.messages.some((m) => m.role === 'assistant') };
}

/** The candidates with the pinned route first, when it is among them (it is then available: healthy, not cooling). */
export function pinnedFirst(candidates: Candidate[], pinned: PinnedRoute | undefined): Candidate[] {
  if (!pinned) return candidates;
  const i = candidates.findIndex((c) => c.provider.name === pinned.provider && c.upstreamModel === pinned.upstreamModel);
  return i <= 0 ? candidates : [candidates[i]!, ...candidates.slice(0, i), ...candidates.slice(i + 1)];
}

const isPinned = (v: unknown): v is PinnedRoute => {
  const p = v as Partial<PinnedRoute> | null;
  return typeof p?.provider === 'string' && typeof p.upstreamModel === 'string' && typeof p.keyId === 'string';
};

interface Remembered {
  route: PinnedRoute;
  expiresAt: number;
}

/**
 * Session affinity: each conversation's turns go first to the route (provider and key) that
 * answered its last turn, so that upstream prompt caches, which key on one provider and often
 * one key, keep paying off. Only an order: a route that is cooling or unhealthy is not a
 * candidate, and a turn another route answers moves the conversation there at once.
 *
 * Kept per model and client scope, for SESSION_AFFINITY_TTL after the last answer: in this
 * process as an LRU of at most SESSION_AFFINITY_MAX_SESSIONS, or in Redis in cluster mode (each
 * entry expiring by itself) so that every replica continues a conversation where it was.
 */
@Injectable()
export class AffinityService {
  private readonly log = new Logger('Affinity');
  private readonly local = new Map<string, Remembered>();
  private readonly failOpen = new FailOpen(this.log, 'Session affinity in Redis', STORE_DEADLINE_MS);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null,
  ) {}

  /** The key of a request's conversation, or undefined when affinity is off or there is no conversation to tell. */
  sessionOf(body: ChatCompletionRequest, sessionHeader: string | undefined, scope: string): Session | undefined {
    if (!this.config.sessionAffinity.enabled) return undefined;
    const conversation = conversationOf(body, sessionHeader);
    if (conversation === undefined) return undefined;
    // One-shot hashing: a third of createHash's cost for these short texts.
    const key = hash('sha256', `${scope}\n${body.model}\n${conversation.id}`, 'base64url');
    return { key, continues: conversation.continues };
  }

  /** The route of the conversation a request continues, if one is remembered. */
  async routeOf(session: Session | undefined): Promise<PinnedRoute | undefined> {
    return session?.continues ? this.get(session.key) : undefined;
  }

  private async get(session: string): Promise<PinnedRoute | undefined> {
    if (this.redis) {
      const redis = this.redis;
      const raw = await this.failOpen.run(() => redis.client.get(redis.key('affinity', session)), null);
      return raw === null ? undefined : parsePinned(raw);
    }
    const entry = this.local.get(session);
    if (!entry) return undefined;
    this.local.delete(session);
    if (entry.expiresAt <= Date.now()) return undefined;
    this.local.set(session, entry);
    return entry.route;
  }

  /** Pins the conversation to the route that just answered it. Never throws. */
  async remember(conversation: Session | undefined, route: PinnedRoute): Promise<void> {
    if (conversation === undefined) return;
    const session = conversation.key;
    const { ttlMs, maxSessions } = this.config.sessionAffinity;
    if (this.redis) {
      const redis = this.redis;
      await this.failOpen.run(() => redis.client.set(redis.key('affinity', session), JSON.stringify(route), 'PX', ttlMs), null);
      return;
    }
    this.local.delete(session);
    this.local.set(session, { route, expiresAt: Date.now() + ttlMs });
    for (const oldest of this.local.keys()) {
      if (this.local.size <= maxSessions) break;
      this.local.delete(oldest);
    }
  }
}

function parsePinned(raw: string): PinnedRoute | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return isPinned(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
