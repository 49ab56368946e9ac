import { Redis } from 'ioredis';
import { entitlementKey } from '../../src/core/decide';
import { idProblem } from '../../src/core/input';
import { RedisStore } from '../../src/redis';
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';

// Two customers must never be decided on one key. Ids are refused when their UTF-8 encoding (what
// Stigg, Redis and the memory store's keys see) would lose information; every accepted id encodes
// injectively, so distinct (customer, resource, feature) triples never share a key.
requireRedis();

const TRICKY = [
  'x',
  'x\uFFFD',
  'x\u{1F600}',
  'x\uD83D\uDE00',
  'é',
  'e\u0301',
  'x\uD800',
  'x\uDC00',
  '\uD800\uDC00',
  'a b',
  'a|b',
  'a:b',
  '{a}',
];

function randomId(random: () => number): string {
  const pieces = ['a', '|', ':', '{', '}', '\uFFFD', '\uD800', '\uDC00', '\uD83D\uDE00', 'é', ' ', '-'];
  let id = '';
  const length = 1 + Math.floor(random() * 6);
  for (let i = 0; i < length; i += 1) id += pieces[Math.floor(random() * pieces.length)];
  return id;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

test('20,000 random triples of accepted ids: distinct triples never share a key once encoded to UTF-8', () => {
  const random = seeded(7);
  const byEncoded = new Map<string, string>();
  let accepted = 0;
  for (let i = 0; i < 20_000; i += 1) {
    const [customer, resource, feature] = [randomId(random), randomId(random), randomId(random)];
    if ([customer, resource, feature].some((id) => idProblem(id) !== undefined)) continue;
    accepted += 1;
    const key = entitlementKey(customer, resource, feature);
    const encoded = Buffer.from(key, 'utf8').toString('hex');
    const earlier = byEncoded.get(encoded);
    if (earlier !== undefined) expect(earlier).toBe(key);
    byEncoded.set(encoded, key);
  }
  // The generator reaches both sides: ids refused (lone surrogates, edges) and many accepted.
  expect(accepted).toBeGreaterThan(1_000);
  expect(accepted).toBeLessThan(20_000);
  expect(TRICKY.filter((id) => idProblem(id) !== undefined)).toEqual(['x\uD800', 'x\uDC00']);
});

test('in Redis, accepted look-alike ids (U+FFFD, emoji as one code point or its pair, composed and decomposed é) are separate entries', async () => {
  const prefix = uniquePrefix();
  const redis = new Redis(REDIS_URL);
  const store = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  try {
    const ids = TRICKY.filter((id) => idProblem(id) === undefined);
    for (const [i, id] of ids.entries()) {
      await store.setEntitlement(entitlementKey(id, null, 'f'), id, { currentUsage: i, usageLimit: 100 } as never, 60_000);
    }
    for (const [i, id] of ids.entries()) {
      const read = await store.getEntitlement(entitlementKey(id, null, 'f'));
      // 'x\u{1F600}' and 'x\uD83D\uDE00' are the same string in JavaScript: the later write wins for both.
      const expected = ids.lastIndexOf(id);
      expect(read?.currentUsage).toBe(expected === -1 ? i : expected);
    }
  } finally {
    await store.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  }
});
