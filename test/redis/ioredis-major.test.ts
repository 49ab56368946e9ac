import { spawnSync } from 'node:child_process';
import os from 'node:os';
import Redis from 'ioredis';
import { RedisStore } from '../../src/redis';
import { childNodePath, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';

requireRedis();

// The peer range is ^5.4.0 || ^6.0.0: `npm test` runs the Redis suites on ioredis 5 (the devDependency),
// `npm run test:ioredis6` on ioredis 6 (the ioredis6 alias). This pins which one a run really loaded,
// in the suite's process and in the node processes the suites start, so the second run cannot
// silently fall back to the first major.
const expectedMajor = process.env.STIGG_GATE_IOREDIS === 'ioredis6' ? 6 : 5;

it(`loads ioredis ${expectedMajor} in the suite and in the processes it starts`, () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the version of whatever 'ioredis' resolves to here
  const inProcess = (require('ioredis/package.json') as { version: string }).version;
  expect(Number(inProcess.split('.')[0])).toBe(expectedMajor);
  const child = spawnSync(process.execPath, ['-p', "require('ioredis/package.json').version"], {
    cwd: os.tmpdir(),
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: childNodePath() },
  });
  expect(Number(child.stdout.trim().split('.')[0])).toBe(expectedMajor);
});

it.each(['a client of this major', 'a URL (the store creates the client)'])(
  'a RedisStore on %s grants exactly 3 of 10 concurrent reservations at limit 3',
  async (given) => {
    const redis = new Redis(REDIS_URL);
    const prefix = uniquePrefix();
    const store = new RedisStore({ redis: given.startsWith('a URL') ? REDIS_URL : redis, prefix, nearCacheMs: 0 });
    try {
      const key = 'customer-1||feature-01-templates';
      const entitlement = {
        accessDeniedReason: null,
        featureType: 'NUMBER',
        meterType: 'Fluctuating',
        hasUnlimitedUsage: false,
        usageLimit: 3,
        currentUsage: 0,
        usagePeriodEnd: null,
        resetPeriod: null,
        fetchedAt: Date.now(),
      } as const;
      await store.setEntitlement(key, 'customer-1', entitlement, 60_000);
      const results = await Promise.all(Array.from({ length: 10 }, () => store.reserve(key, 1, 3, 30_000)));
      expect(results.filter((result) => result.ok)).toHaveLength(3);
    } finally {
      await store.close();
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
  },
);
