import type Redis from 'ioredis';
import type { CachedEntitlement } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { SET_ENTITLEMENT, USAGE_MARK } from '../../src/redis/scripts';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';

requireRedis();

// Adversarial pass on the batched writes (src/redis/script-batch.ts) at size: 1,000 keys marked and
// written in one turn of the loop go as scripts of at most 128 entries (7 KEYS and 9 ARGV each). Every
// entry keeps its own outcome: its own usage (Stigg's + its pending units + units acknowledged since
// its mark), and its own refusal when its customer was invalidated after its mark was read. Entries
// without a mark ('' in their ARGV) sit between entries with one.

const KEYS = 1_000;
const CUSTOMERS = 50;
let redis: Redis;
let prefix: string;

const keyOf = (i: number): string => `c${i % CUSTOMERS}\u001f\u001ff${i}`;
const customerOf = (i: number): string => `c${i % CUSTOMERS}`;
const invalidated = (i: number): boolean => i % CUSTOMERS < 5;
const marked = (i: number): boolean => i % 2 === 1;

function entitlement(currentUsage: number): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Incremental',
    hasUnlimitedUsage: false,
    usageLimit: 100_000,
    currentUsage,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: Date.now(),
  };
}

beforeAll(async () => {
  redis = await connectRedis();
});

beforeEach(() => {
  prefix = uniquePrefix();
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
});

afterAll(async () => {
  await redis.quit();
});

it('1,000 keys marked and written in one turn: 8 scripts each, every key exact, each refusal its own', async () => {
  const client = redis.duplicate();
  const calls = new Map<string, number>();
  const evalsha = client.evalsha.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = (...args: unknown[]) => {
    calls.set(String(args[0]), (calls.get(String(args[0])) ?? 0) + 1);
    return evalsha(...args);
  };
  const store = new RedisStore({ redis: client, prefix, nearCacheMs: 0 });
  try {
    const seed = redis.pipeline();
    for (let i = 0; i < KEYS; i++) {
      seed.set(`${prefix}pend:${keyOf(i)}`, String(i % 7));
      seed.set(`${prefix}acked:${keyOf(i)}`, String(i % 5));
    }
    await seed.exec();
    calls.clear();
    const marks = await Promise.all(Array.from({ length: KEYS }, (_, i) => store.usageMark(keyOf(i), 'delivery')));
    expect(marks).toEqual(Array.from({ length: KEYS }, (_, i) => i % 5));
    expect(calls.get(USAGE_MARK.sha)).toBe(Math.ceil(KEYS / 128));
    // Acknowledged since the marks: 2 more units for every third key; five customers invalidated.
    const since = redis.pipeline();
    for (let i = 0; i < KEYS; i += 3) since.incrby(`${prefix}acked:${keyOf(i)}`, 2);
    await since.exec();
    for (let c = 0; c < 5; c++) await store.invalidateCustomer(`c${c}`);
    calls.clear();
    const written = await Promise.allSettled(
      Array.from({ length: KEYS }, (_, i) =>
        store.setEntitlement(
          keyOf(i),
          customerOf(i),
          entitlement(100 + i),
          60_000,
          marked(i) ? (marks[i] as number) : undefined,
          'delivery',
        ),
      ),
    );
    expect(written.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(calls.get(SET_ENTITLEMENT.sha)).toBe(Math.ceil(KEYS / 128));
    const read = redis.pipeline();
    for (let i = 0; i < KEYS; i++) read.hget(`${prefix}ent:${keyOf(i)}`, 'usage');
    const usages = ((await read.exec()) ?? []).map(([, value]) => (value === null ? null : Number(value)));
    const expected = Array.from({ length: KEYS }, (_, i) => {
      if (marked(i) && invalidated(i)) return null; // its data predates the invalidation
      return 100 + i + (i % 7) + (marked(i) && i % 3 === 0 ? 2 : 0);
    });
    const wrong = usages.flatMap((usage, i) => (usage === expected[i] ? [] : [{ key: keyOf(i), usage, expected: expected[i] }]));
    expect(wrong).toEqual([]);
  } finally {
    await store.close();
    client.disconnect();
  }
});
