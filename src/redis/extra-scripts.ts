import { randomUUID } from 'node:crypto';
import type { FallbackTake } from '../core';
import type { RunScript } from './outbox-calls';
import { script } from './scripts';
import { assertFinite, assertKey, toTtl } from './validate';

// Scripts beyond the core set of scripts.ts: the fleet's fallback totals, re-asserted reservations.

/** How long a fleet's fallback total outlives its last grant when Stigg never answers for its key again. */
export const FALLBACK_TOTAL_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A feature's fallback `usageLimit` counted for the fleet: one hash per key ({ used, id }) that
 * setEntitlement deletes (Stigg answered for the key: the outage's total ends). The id names the
 * total, so units given back by a lease of an earlier outage never free places in a later one.
 *
 * KEYS: the key's fallback total. ARGV: amount, limit, '1' to take (else only look), ttlMs, an id
 * for a new total. As the core's exceeds(): refused when amount > 0 and the total is already at the
 * limit, or when used + amount passes the limit (beyond a relative 1e-12).
 * Returns { 1|0, used before this call, the total's id }.
 */
export const TAKE_FALLBACK = script(
  'takeFallback',
  `
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
local id = redis.call('HGET', KEYS[1], 'id') or ARGV[5]
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if (amount > 0 and used >= limit) or used + amount > limit + math.abs(limit) * 1e-12 then
  return { 0, tostring(used), id }
end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'id', id)
  redis.call('HINCRBYFLOAT', KEYS[1], 'used', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return { 1, tostring(used), id }
`,
);

/**
 * KEYS: the key's fallback total. ARGV: units given back (negative: taken), the total's id. Nothing
 * when the key's total is another one (Stigg answered since). A total back at 0 is deleted.
 */
export const GIVE_BACK_FALLBACK = script(
  'giveBackFallback',
  `
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[2] then return 0 end
if tonumber(redis.call('HINCRBYFLOAT', KEYS[1], 'used', -tonumber(ARGV[1]))) <= 0 then redis.call('DEL', KEYS[1]) end
return 1
`,
);

/**
 * After a data loss (see DATA_EPOCH), a process puts back a reservation it still holds. KEYS:
 * reservation expiries, reservation amounts. ARGV: reservation id, amount, ttlMs. A reservation still
 * there is only extended. Returns 1 when it was still held, 2 when it was put back.
 */
export const REASSERT_RESERVATION = script(
  'reassertReservation',
  `
local held = redis.call('HEXISTS', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
if held == 0 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
if held == 1 then return 1 end
return 2
`,
);

/** RedisStore.takeFallback (see Store.takeFallback). */
export async function takeFallback(
  run: RunScript,
  prefix: string,
  key: string,
  amount: number,
  limit: number,
  consume: boolean,
): Promise<FallbackTake> {
  assertKey('takeFallback', key);
  assertFinite('takeFallback', amount, 'amount');
  assertFinite('takeFallback', limit, 'limit');
  const args = [String(amount), String(limit), consume ? '1' : '0', FALLBACK_TOTAL_TTL_MS, randomUUID()];
  const [ok, used, total] = (await run('takeFallback', TAKE_FALLBACK, [`${prefix}fb:${key}`], args)) as [number, string, string];
  return { ok: ok === 1, used: Number(used), total: String(total) };
}

/** RedisStore.giveBackFallback: units back to the total `total`, if it is still the key's. */
export async function giveBackFallback(run: RunScript, prefix: string, key: string, amount: number, total: string): Promise<void> {
  assertKey('giveBackFallback', key);
  assertFinite('giveBackFallback', amount, 'amount');
  await run('giveBackFallback', GIVE_BACK_FALLBACK, [`${prefix}fb:${key}`], [String(amount), total]);
}

/** RedisStore.reassertReservation: true when the reservation had to be put back. */
export async function reassertReservation(
  run: RunScript,
  keys: string[],
  reservationId: string,
  amount: number,
  ttlMs: number,
): Promise<boolean> {
  assertKey('reassertReservation', reservationId, 'reservationId');
  assertFinite('reassertReservation', amount, 'amount');
  const ttl = toTtl('reassertReservation', ttlMs);
  return (await run('reassertReservation', REASSERT_RESERVATION, keys, [reservationId, String(amount), ttl])) === 2;
}
