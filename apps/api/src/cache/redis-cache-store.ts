import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { LuaScript } from '../storage/redis/redis-connection.ts';
import type { CacheStore } from './cache-store.ts';

/**
 * A put: drops entries expired by `now` and the key's old entry, evicts the entries that expire
 * first (with one TTL for all, the oldest) until the new one fits under the cap, then writes it.
 * One script, so replicas writing at once keep the byte count right.
 * KEYS: index (zset: entry → expiry), sizes (hash: entry → bytes), total bytes.
 * ARGV: entry key prefix, entry id, JSON, expiresAt, now, max bytes.
 */
const CACHE_PUT = new LuaScript(`
local function drop(id)
  local size = tonumber(redis.call('HGET', KEYS[2], id) or '0')
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('DEL', ARGV[1] .. id)
  if size > 0 then redis.call('DECRBY', KEYS[3], size) end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])) do drop(id) end
drop(ARGV[2])
local size = string.len(ARGV[3])
local max = tonumber(ARGV[6])
if size > max then return 0 end
while tonumber(redis.call('GET', KEYS[3]) or '0') + size > max do
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #oldest == 0 then break end
  drop(oldest[1])
end
redis.call('SET', ARGV[1] .. ARGV[2], ARGV[3], 'PXAT', ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], size)
redis.call('INCRBY', KEYS[3], size)
return 1
`);

/** The cluster's cache: one entry per key (`P cache:e:<id>`, expiring by itself), shared by every replica. */
export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly maxBytes: number,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.client.get(this.redis.key('cache', 'e', key))) ?? undefined;
  }

  async put(key: string, json: string, expiresAt: number, now: number): Promise<void> {
    const keys = [this.redis.key('cache', 'index'), this.redis.key('cache', 'sizes'), this.redis.key('cache', 'bytes')];
    await CACHE_PUT.run(this.redis.client, keys, [this.redis.key('cache', 'e', ''), key, json, expiresAt, now, this.maxBytes]);
  }

  async size(now: number): Promise<{ entries: number; bytes: number }> {
    const [entries, bytes] = await Promise.all([
      this.redis.client.zcount(this.redis.key('cache', 'index'), `(${now}`, '+inf'),
      this.redis.client.get(this.redis.key('cache', 'bytes')),
    ]);
    return { entries, bytes: Number(bytes ?? 0) };
  }
}
