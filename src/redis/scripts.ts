import { createHash } from 'node:crypto';

/**
 * Every RedisStore operation is one Lua script, so each is atomic across processes and costs one
 * round trip. Time comes from Redis (TIME), the one clock all processes share. Requires Redis >= 5.
 */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function script(name: string, body: string): Script {
  // TIME only in the scripts that read the clock: one command less for commit, enqueue, ack and the rest.
  const source = /\bnow\b/.test(body) ? `${NOW}\n${body.trim()}\n` : `${body.trim()}\n`;
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

const NOW = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

const EXTEND_TTL = `local function extend(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end`;

/**
 * KEYS: entitlement hash. Returns { data, usage, ms until its expiry, customer id } or nil when
 * absent or past its expiry. Entries outlive their expiry by a grace period so that reservations
 * and commits made by requests that read them just before still find the usage.
 */
export const GET_ENTITLEMENT = script(
  'getEntitlement',
  `
local v = redis.call('HMGET', KEYS[1], 'data', 'usage', 'exp', 'cust')
if not v[1] or not v[2] or tonumber(v[3] or 0) <= now then return false end
return { v[1], v[2], tostring(tonumber(v[3]) - now), v[4] or '' }
`,
);

/**
 * Writes one entry or several (a delivery reconciles every key of its batch): per entry, 7 KEYS and 9
 * ARGV. KEYS: entitlement hash, customer index, pending units of the key, fetch lock, acknowledged
 * units of the key, the customer's invalidation generation, the key's fallback total (Stigg answered:
 * it ends). ARGV: data, usage from Stigg, ttlMs, graceMs, key, '1' to add the units committed but not
 * yet acknowledged by Stigg (from every process) to Stigg's usage, then a usage mark ('' for none):
 * the acknowledged-units counter read before Stigg's usage was; units acknowledged since are added
 * too, since Stigg's answer may predate them (counting one twice for a moment is safe, missing one is
 * not); then the customer's generation read with that mark ('' for none), customer id. Returns, per
 * entry, 0 when it was not written because the customer was invalidated since (the data predates the
 * invalidation), else 1.
 */
export const SET_ENTITLEMENT = script(
  'setEntitlement',
  `
${EXTEND_TTL}
local function set(k, a)
  if ARGV[a + 8] ~= '' and (redis.call('GET', KEYS[k + 6]) or '0') ~= ARGV[a + 8] then
    redis.call('DEL', KEYS[k + 4])
    return 0
  end
  local ttl = tonumber(ARGV[a + 3])
  local life = ttl + tonumber(ARGV[a + 4])
  local pending = 0
  if ARGV[a + 6] == '1' then
    pending = tonumber(redis.call('GET', KEYS[k + 3]) or '0')
    if ARGV[a + 7] ~= '' then
      local since = tonumber(redis.call('GET', KEYS[k + 5]) or '0') - tonumber(ARGV[a + 7])
      if since > 0 then pending = pending + since end
    end
  end
  redis.call('HSET', KEYS[k + 1], 'data', ARGV[a + 1], 'usage', tonumber(ARGV[a + 2]) + pending, 'exp', now + ttl, 'cust', ARGV[a + 9])
  redis.call('PEXPIRE', KEYS[k + 1], life)
  redis.call('SADD', KEYS[k + 2], ARGV[a + 5])
  extend(KEYS[k + 2], life)
  redis.call('DEL', KEYS[k + 4], KEYS[k + 7])
  return 1
end
local written = {}
for i = 0, math.floor(#KEYS / 7) - 1 do written[i + 1] = set(i * 7, i * 9) end
return written
`,
);

/**
 * Per key (one or several, read together): KEYS acknowledged units of the key, the customer's
 * invalidation generation. Returns { counter, generation } per key, flat: a usage mark (see
 * SET_ENTITLEMENT) and what a write of data read now must find.
 */
export const USAGE_MARK = script(
  'usageMark',
  `
local marks = {}
for i = 1, #KEYS do marks[i] = redis.call('GET', KEYS[i]) or '0' end
return marks
`,
);

/**
 * KEYS: customer index, the customer's invalidation generation. ARGV: prefix of entitlement hashes,
 * channel, customer id. Marks every entry of the customer expired, bumps the generation (writes of
 * data read before are refused) and tells every process (their near caches) on the channel.
 */
export const INVALIDATE_CUSTOMER = script(
  'invalidateCustomer',
  `
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do
  local entry = ARGV[1] .. key
  if redis.call('EXISTS', entry) == 1 then redis.call('HSET', entry, 'exp', 0) end
end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
redis.call('PUBLISH', ARGV[2], 'c:' .. ARGV[3])
return #members
`,
);

/** KEYS: fetch lock. ARGV: token. Releases the lock only when it still holds this token. */
export const RELEASE_FETCH_LOCK = script(
  'releaseFetchLock',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);

/** KEYS: fetch lock. ARGV: token, ttlMs. */
export const ACQUIRE_FETCH_LOCK = script(
  'acquireFetchLock',
  `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`,
);

const PURGE_AND_SUM = `local function purgeAndSum(expiries, amounts)
  local expired = redis.call('ZRANGEBYSCORE', expiries, '-inf', now)
  for _, id in ipairs(expired) do redis.call('HDEL', amounts, id) end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', expiries, '-inf', now) end
  local reserved = 0
  for _, amount in ipairs(redis.call('HVALS', amounts)) do reserved = reserved + tonumber(amount) end
  return reserved
end`;

/** KEYS: reservation expiries, reservation amounts. Returns the units still reserved. */
export const RESERVED_USAGE = script(
  'reservedUsage',
  `
${PURGE_AND_SUM}
return tostring(purgeAndSum(KEYS[1], KEYS[2]))
`,
);

/**
 * KEYS: entitlement hash, reservation expiries (ZSET), reservation amounts (HASH), the recovery
 * window after a data loss, the data-loss marker. ARGV: amount, limit ('inf' for none), ttlMs,
 * reservation id, the marker's value the caller last read ('' for none). Refused as the core's
 * exceeds() (and MemoryStore.reserve) refuses: amount > 0 once the total is at the limit, or a total
 * past the limit beyond a relative 1e-12 (fractional units summing to the limit but for rounding fit).
 * Returns { 1|0, committed + reserved after the call }, { 2, ms left } while the window is open, or
 * { 3 } when the marker is not the one the caller read: Redis lost its data since (FLUSHALL, FLUSHDB,
 * with no reconnect nor NOSCRIPT to tell), and the caller must check it before reserving.
 */
export const RESERVE = script(
  'reserve',
  `
${EXTEND_TTL}
${PURGE_AND_SUM}
local wait = redis.call('PTTL', KEYS[4])
if wait > 0 then return { 2, tostring(wait) } end
if ARGV[5] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[5] then return { 3 } end
local usage = redis.call('HGET', KEYS[1], 'usage')
if not usage then
  return redis.error_reply('ERR stigg-gate: no cached entitlement at ' .. KEYS[1] .. ' to reserve against; setEntitlement must come first')
end
local before = tonumber(usage) + purgeAndSum(KEYS[2], KEYS[3])
local amount = tonumber(ARGV[1])
if ARGV[2] ~= 'inf' then
  local limit = tonumber(ARGV[2])
  if (amount > 0 and before >= limit) or before + amount > limit + math.abs(limit) * 1e-12 then
    return { 0, tostring(before) }
  end
end
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[4])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[1])
extend(KEYS[2], ttl)
extend(KEYS[3], ttl)
return { 1, tostring(before + amount) }
`,
);

/** KEYS: reservation expiries, reservation amounts. ARGV: reservation id. */
export const RELEASE = script(
  'release',
  `
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('HDEL', KEYS[2], ARGV[1])
`,
);

/**
 * Shared by commit and enqueueUsage. KEYS: entitlement hash, pending units of the key, outbox
 * reports (HASH id → JSON), outbox keys (HASH id → key), outbox queue (ZSET scored by a sequence so
 * it stays FIFO), outbox in-flight (ZSET), outbox sequence, outbox order (HASH id → its sequence).
 * ARGV: report id, report JSON, value, 'SET'|'DELTA', key, then the reservation id (commit only).
 */
const APPLY_AND_QUEUE = `local function apply()
  if redis.call('EXISTS', KEYS[1]) == 1 then
    if ARGV[4] == 'SET' then
      redis.call('HSET', KEYS[1], 'usage', ARGV[3])
    else
      redis.call('HINCRBYFLOAT', KEYS[1], 'usage', ARGV[3])
    end
  end
  if ARGV[4] ~= 'SET' then redis.call('INCRBYFLOAT', KEYS[2], ARGV[3]) end
end
local function queue()
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
  redis.call('ZREM', KEYS[6], ARGV[1])
  local seq = redis.call('INCR', KEYS[7])
  redis.call('ZADD', KEYS[5], seq, ARGV[1])
  redis.call('HSET', KEYS[8], ARGV[1], seq)
end`;

/** KEYS: as APPLY_AND_QUEUE, then reservation expiries and amounts. A report id already queued is a no-op. */
export const COMMIT = script(
  'commit',
  `
${APPLY_AND_QUEUE}
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 0 end
redis.call('ZREM', KEYS[9], ARGV[6])
redis.call('HDEL', KEYS[10], ARGV[6])
apply()
queue()
return 1
`,
);

/** KEYS: as APPLY_AND_QUEUE. A report id already in the outbox is queued again (updated), not applied twice. */
export const ENQUEUE = script(
  'enqueueUsage',
  `
${APPLY_AND_QUEUE}
local known = redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1
if not known then apply() end
queue()
if known then return 0 end
return 1
`,
);

/**
 * KEYS: outbox reports, outbox queue, outbox in-flight, outbox attempts (HASH id → claims), outbox
 * order. ARGV: max, leaseMs. Reports whose lease ran out come first, in the order they were queued
 * (Stigg's answers to a batch are read in order: the last one per key is its usage after the batch),
 * then the oldest queued ones.
 * Returns a flat list { json, previous claims, json, previous claims, ... }.
 */
export const CLAIM = script(
  'claimUsage',
  `
local max = tonumber(ARGV[1])
local deadline = now + tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, max)
if #ids > 1 then
  local order = {}
  for _, id in ipairs(ids) do order[id] = tonumber(redis.call('HGET', KEYS[5], id) or '0') end
  table.sort(ids, function(a, b) return order[a] < order[b] end)
end
if #ids < max then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, max - #ids - 1)) do
    redis.call('ZREM', KEYS[2], id)
    ids[#ids + 1] = id
  end
end
local out = {}
for _, id in ipairs(ids) do
  local json = redis.call('HGET', KEYS[1], id)
  if json then
    redis.call('ZADD', KEYS[3], deadline, id)
    out[#out + 1] = json
    out[#out + 1] = redis.call('HINCRBY', KEYS[4], id, 1) - 1
  else
    redis.call('ZREM', KEYS[3], id)
  end
end
return out
`,
);

/**
 * KEYS: outbox reports, outbox keys, outbox queue, outbox in-flight, outbox attempts, outbox sequence, outbox order.
 * ARGV: prefix of pending-unit counters, prefix of acknowledged-unit counters, their lifetime (ms),
 * then the ids. Returns how many were removed. A DELTA report moves its units from the key's pending
 * counter to its acknowledged counter (usage marks are read from it). Values may be negative
 * (units given back): a counter is deleted only at zero, never because it went below it, since
 * acknowledgements arrive in any order.
 */
export const ACK = script(
  'ackUsage',
  `
local removed = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local json = redis.call('HGET', KEYS[1], id)
  if json then
    local key = redis.call('HGET', KEYS[2], id)
    local ok, report = pcall(cjson.decode, json)
    if key and ok and report.updateBehavior ~= 'SET' and type(report.value) == 'number' then
      local counter = ARGV[1] .. key
      if math.abs(tonumber(redis.call('INCRBYFLOAT', counter, -report.value))) <= 1e-9 then redis.call('DEL', counter) end
      local acked = ARGV[2] .. key
      redis.call('INCRBYFLOAT', acked, report.value)
      redis.call('PEXPIRE', acked, ARGV[3])
    end
    redis.call('HDEL', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[5], id)
    redis.call('HDEL', KEYS[7], id)
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZREM', KEYS[4], id)
    removed = removed + 1
  end
end
if redis.call('ZCARD', KEYS[3]) == 0 and redis.call('ZCARD', KEYS[4]) == 0 then redis.call('DEL', KEYS[6]) end
return removed
`,
);

/** The breaker's probe: Redis answers. */
export const PING = script('ping', 'return 1');

/**
 * KEYS: outbox reports, outbox queue, outbox in-flight, outbox order. ARGV: ids. Claimed reports go
 * back to the queue in their place (their sequence: ahead of everything queued after them), claimable
 * at once by any process.
 */
export const RELEASE_USAGE = script(
  'releaseUsage',
  `
local released = 0
for _, id in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[3], id) == 1 and redis.call('HEXISTS', KEYS[1], id) == 1 then
    redis.call('ZADD', KEYS[2], tonumber(redis.call('HGET', KEYS[4], id) or '0'), id)
    released = released + 1
  end
end
return released
`,
);

/**
 * KEYS: reservation expiries, reservation amounts. ARGV: reservation id, ttlMs. Extends a
 * reservation still held to ttlMs from now; 0 when it already expired (its units were given back).
 */
export const RENEW_RESERVATION = script(
  'renewReservation',
  `
${EXTEND_TTL}
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) <= now or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
extend(KEYS[1], ttl)
extend(KEYS[2], ttl)
return 1
`,
);

/**
 * KEYS: the data-loss marker, the recovery window. ARGV: a new epoch, written when the marker is
 * missing; the epoch the caller last read ('' for none); the window (ms). A caller that finds another
 * epoch than it knew has found a loss: reservations wait out the window (see RESERVE) while every
 * process re-asserts the reservations it holds; the first finder opens it, a later one (which
 * re-asserts only now) opens a new one once it is over.
 * Returns { 1 when the marker existed else 0, its value }.
 */
export const DATA_EPOCH = script(
  'dataEpoch',
  `
local value = redis.call('GET', KEYS[1])
local existed = 1
if not value then
  existed = 0
  value = ARGV[1]
  redis.call('SET', KEYS[1], value)
end
if ARGV[2] ~= '' and value ~= ARGV[2] and tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[2], value, 'NX', 'PX', ARGV[3])
end
return { existed, value }
`,
);
