import { LuaScript } from './redis-connection.ts';

/**
 * Settings write: the document, its namespace in the namespace set, and the change message in
 * one atomic step, so no replica can see the write without the message being on its way.
 * KEYS: namespace hash, namespace set. ARGV: field, JSON, namespace, channel, message.
 */
export const SETTINGS_SET = new LuaScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`);

/**
 * ResponseStore.extend for one response: its JSON's expiresAt (the field the gateway writes right
 * after owner, matched as written) and its key's expiry, when that is before ARGV[2].
 * KEYS: the response key. ARGV: new expiry (epoch ms), the threshold.
 */
export const RESPONSE_EXTEND = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local at = tonumber(string.match(raw, '"expiresAt":(%d+)'))
if not at or at >= tonumber(ARGV[2]) then return 0 end
local updated = string.gsub(raw, '"expiresAt":%d+', '"expiresAt":' .. ARGV[1], 1)
redis.call('SET', KEYS[1], updated, 'PXAT', ARGV[1])
return 1
`);

/**
 * SettingsStore.create: HSETNX, then register and announce only what was stored.
 * KEYS: namespace hash, namespace set. ARGV: field, value, namespace, channel, message.
 */
export const SETTINGS_CREATE = new LuaScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`);

/**
 * SettingsStore.increment: read, change and write the counters document in one atomic step (the
 * same rules as applyCounterChange in storage.ts). cjson keeps 14 significant digits, enough for
 * epoch milliseconds and any realistic counter.
 * KEYS: namespace hash, namespace set. ARGV: field, JSON of `add`, JSON of `max`, namespace.
 */
export const SETTINGS_INCREMENT = new LuaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local doc = {}
if raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then doc = decoded end
end
for field, by in pairs(cjson.decode(ARGV[2])) do
  local now = doc[field]
  if type(now) ~= 'number' then now = 0 end
  doc[field] = now + by
end
for field, atLeast in pairs(cjson.decode(ARGV[3])) do
  local now = doc[field]
  if type(now) ~= 'number' or atLeast > now then doc[field] = atLeast end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(doc))
redis.call('SADD', KEYS[2], ARGV[4])
return 1
`);

/**
 * Settings delete; publishes only when something was deleted.
 * KEYS: namespace hash. ARGV: field, channel, message.
 */
export const SETTINGS_DELETE = new LuaScript(`
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`);

/**
 * A page of the request log and the number of all matches.
 * KEYS: entries hash, temporary key, then the sorted sets to read: one (read as is) or several
 *   (intersected into the temporary key, which is deleted again).
 * ARGV: min score, max score (ZRANGEBYSCORE syntax), offset, limit.
 * Returns { total, JSON entries newest first } (an entry purged meanwhile comes back as nil).
 */
export const LOG_QUERY = new LuaScript(`
local source = KEYS[3]
local n = #KEYS - 2
if n > 1 then
  local args = { KEYS[2], n }
  for i = 3, #KEYS do args[#args + 1] = KEYS[i] end
  args[#args + 1] = 'AGGREGATE'
  args[#args + 1] = 'MAX'
  redis.call('ZINTERSTORE', unpack(args))
  redis.call('PEXPIRE', KEYS[2], 60000)
  source = KEYS[2]
end
local total = redis.call('ZCOUNT', source, ARGV[1], ARGV[2])
local items = {}
local offset = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
if limit > 0 and total > offset then
  local ids = redis.call('ZREVRANGEBYSCORE', source, ARGV[2], ARGV[1], 'LIMIT', offset, limit)
  for i = 1, #ids, 500 do
    local chunk = {}
    for j = i, math.min(i + 499, #ids) do chunk[#chunk + 1] = ids[j] end
    local values = redis.call('HMGET', KEYS[1], unpack(chunk))
    for j = 1, #values do items[#items + 1] = values[j] end
  end
end
if n > 1 then redis.call('DEL', KEYS[2]) end
return { total, items }
`);

/**
 * Deletes up to ARGV[2] log entries with a score below ARGV[1] (ZRANGEBYSCORE syntax) from the
 * time index and the entries hash; returns how many.
 * KEYS: time sorted set, entries hash.
 */
export const LOG_PURGE_BATCH = new LuaScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return 0 end
redis.call('ZREM', KEYS[1], unpack(ids))
redis.call('HDEL', KEYS[2], unpack(ids))
return #ids
`);

/**
 * Trims filter indexes below a score and forgets the ones left empty, atomically, so an
 * append racing the purge cannot leave an index nobody purges.
 * KEYS: the set of index names, then the indexes. ARGV: max score (ZRANGEBYSCORE syntax).
 */
export const LOG_PURGE_INDEXES = new LuaScript(`
for i = 2, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1])
  if redis.call('ZCARD', KEYS[i]) == 0 then redis.call('SREM', KEYS[1], KEYS[i]) end
end
return 1
`);

/**
 * A sliding-window rate limit (the sorted-set version of InMemoryRateLimiter): counts one hit
 * when fewer than the limit were counted in the window before it.
 * KEYS: the key's sorted set. ARGV: now (ms), window (ms), limit, member.
 * Returns { 1, 0 } when allowed, else { 0, epoch ms when a hit would be allowed }.
 */
export const RATE_LIMIT_HIT = new LuaScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local counted = redis.call('ZCARD', KEYS[1])
if counted < limit then
  local t = now
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if last[2] and tonumber(last[2]) > t then t = tonumber(last[2]) end
  redis.call('ZADD', KEYS[1], t, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window + math.max(0, t - now) + 1000)
  return { 1, 0 }
end
local mustExpire = counted - limit + 1
local oldest = redis.call('ZRANGE', KEYS[1], mustExpire - 1, mustExpire - 1, 'WITHSCORES')
return { 0, tonumber(oldest[2]) + window }
`);

/**
 * Deletes hash fields only if they still hold the given values (an expired retained message,
 * not the fresh one another process put there meanwhile).
 * KEYS: the hash. ARGV: field, value, field, value, …
 */
export const HASH_DELETE_IF_UNCHANGED = new LuaScript(`
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then n = n + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return n
`);

/**
 * A client key's quota admission: checks every quota, then counts the request in each period,
 * in one step so replicas can never both take a quota's last unit.
 * KEYS: the day, month and total counter hashes. ARGV: per KEY its request limit, token limit
 * (-1: none) and time to live in ms (0: none). Returns { 1, 0, '' } or { 0, KEY index, field }.
 */
export const QUOTA_ADMIT = new LuaScript(`
for i = 1, #KEYS do
  local base = (i - 1) * 3
  local limits = { requests = tonumber(ARGV[base + 1]), tokens = tonumber(ARGV[base + 2]) }
  for _, field in ipairs({ 'requests', 'tokens' }) do
    if limits[field] >= 0 and tonumber(redis.call('HGET', KEYS[i], field) or '0') >= limits[field] then
      return { 0, i, field }
    end
  end
end
for i = 1, #KEYS do
  redis.call('HINCRBY', KEYS[i], 'requests', 1)
  local ttl = tonumber(ARGV[(i - 1) * 3 + 3])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return { 1, 0, '' }
`);

/**
 * Adds tokens to a client key's counters. KEYS: the counter hashes. ARGV: tokens, then per KEY
 * its time to live in ms (0: none).
 */
export const QUOTA_ADD_TOKENS = new LuaScript(`
for i = 1, #KEYS do
  redis.call('HINCRBY', KEYS[i], 'tokens', ARGV[1])
  local ttl = tonumber(ARGV[i + 1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
`);

/**
 * Takes a concurrency slot: a sorted set of leases scored by when they lapse (a replica that
 * died holding one frees it then). KEYS: the set. ARGV: now, lease ms, limit, lease id.
 */
export const CONCURRENCY_ACQUIRE = new LuaScript(`
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return 1
`);
