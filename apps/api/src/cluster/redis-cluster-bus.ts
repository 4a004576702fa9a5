import { Logger } from '@nestjs/common';
import { Observable, filter, from, map, merge, mergeMap, of, type Subscription } from 'rxjs';
import type { ClusterBus, RetainOptions } from './cluster-bus.ts';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { HASH_DELETE_IF_UNCHANGED } from '../storage/redis/redis-scripts.ts';

interface Envelope {
  /** The publishing process. */
  o: string;
  /** The message. */
  m: string;
  /** Retained until (epoch ms). */
  e?: number;
}

function parseEnvelope(raw: string): Envelope | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null) return undefined;
    const { o, m, e } = v as Record<string, unknown>;
    if (typeof o !== 'string' || typeof m !== 'string' || (e !== undefined && typeof e !== 'number')) return undefined;
    return e === undefined ? { o, m } : { o, m, e };
  } catch {
    return undefined;
  }
}

/**
 * The cluster bus over Redis: channel `P bus:<topic>` carries {"o": origin, "m": message};
 * retained messages also sit in the hash `P bus:<topic>` (id → envelope with its expiry),
 * read when a process subscribes and again after its subscriber reconnects. Expired entries
 * are deleted when read.
 */
export class RedisClusterBus implements ClusterBus {
  private readonly logger = new Logger('ClusterBus');

  constructor(private readonly redis: RedisConnection) {}

  async publish(topic: string, message: string, retain?: RetainOptions): Promise<void> {
    const channel = this.redis.key('bus', topic);
    const envelope: Envelope = { o: this.redis.instanceId, m: message };
    if (!retain) {
      await this.redis.client.publish(channel, JSON.stringify(envelope));
      return;
    }
    const retained: Envelope = { ...envelope, e: Date.now() + retain.ms };
    const results = await this.redis.client.multi().hset(channel, retain.id, JSON.stringify(retained)).publish(channel, JSON.stringify(envelope)).exec();
    const failed = results?.find(([err]) => err)?.[0];
    if (failed) throw failed;
  }

  messages(topic: string): Observable<string> {
    const name = `bus:${topic}`;
    return new Observable<string>((subscriber) => {
      const subs: Subscription[] = [];
      const live = this.redis.messages.pipe(
        filter((m) => m.channel === name),
        map((m) => parseEnvelope(m.message)),
        filter((e): e is Envelope => e !== undefined && e.o !== this.redis.instanceId),
        map((e) => e.m),
      );
      // Live messages are listened to before the retained ones are read, so none falls in between.
      subs.push(live.subscribe(subscriber));
      const replays = merge(of(undefined), this.redis.reconnected).pipe(
        mergeMap(() => this.retained(topic)),
        mergeMap((list) => from(list)),
      );
      this.redis.subscribe(name).then(
        () => subs.push(replays.subscribe({ next: (m) => subscriber.next(m) })),
        (err: Error) => subscriber.error(err),
      );
      return () => subs.forEach((s) => s.unsubscribe());
    });
  }

  /** Unexpired retained messages of other processes; deletes the expired ones. */
  private async retained(topic: string): Promise<string[]> {
    const key = this.redis.key('bus', topic);
    try {
      const flat = (await this.redis.client.call('HGETALL', key)) as string[];
      const now = Date.now();
      /** Field, value, field, value, … */
      const expired: string[] = [];
      const messages: string[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const e = parseEnvelope(flat[i + 1]!);
        if (!e || (e.e ?? 0) <= now) expired.push(flat[i]!, flat[i + 1]!);
        else if (e.o !== this.redis.instanceId) messages.push(e.m);
      }
      if (expired.length) await HASH_DELETE_IF_UNCHANGED.run(this.redis.client, [key], expired);
      return messages;
    } catch (err) {
      this.logger.warn(`Could not read retained ${topic} messages: ${(err as Error).message}`);
      return [];
    }
  }
}
