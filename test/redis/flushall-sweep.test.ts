import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisStore } from '../../src/redis';
import { closedPort, requireRedisBinaries, startRedisServer, stopRedisServer } from './helpers';
import { sleep } from '../support/time';

// Adversarial pass 3 on src/redis/handed-over.ts: Redis emptied under a live connection (FLUSHALL, or
// an allkeys-* eviction of the outbox) with no reconnect and no NOSCRIPT. The sweep's script saw the
// marker gone (-1) every second and concluded nothing, and nothing else looked: a process that made
// no reservation afterwards (an unlimited or unreserved feature, an idle process, one about to shut
// down) never put its report back. Measured: still missing 9 s after the FLUSHALL (3 s of sweeps, then
// 6 s of claims every 200 ms); with the sweep asking for a marker check, back within the first second.
requireRedisBinaries();

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

it('FLUSHALL under a live connection, no reservation after it: the sweep finds the loss and puts the report back', async () => {
  const port = await closedPort();
  const redis = await startRedisServer(port);
  cleanups.push(() => stopRedisServer(redis));
  const store = new RedisStore({
    redis: `redis://127.0.0.1:${port}`,
    nearCacheMs: 0,
    logger: { warn: () => undefined, error: () => undefined },
  });
  cleanups.unshift(() => store.close());
  const admin = new Redis({ port, host: '127.0.0.1' });
  cleanups.unshift(() => admin.disconnect());
  const id = randomUUID();
  const report = {
    id,
    idempotencyKey: id,
    customerId: 'c',
    featureId: 'feature-01-templates',
    value: 1,
    createdAt: new Date().toISOString(),
    attempts: 0,
  };
  await store.enqueueUsage('c\u001f\u001ffeature-01-templates', report);
  // As a process flushing every few seconds: its claim script is loaded (a claim, put back).
  expect((await store.claimUsage(10, 60_000)).map((r) => r.id)).toEqual([id]);
  await store.releaseUsage([id]);
  await sleep(1500); // a sweep has looked for it once
  await admin.flushall();
  await sleep(3000); // 3 sweeps
  let claimed: string[] = [];
  for (const started = Date.now(); claimed.length === 0 && Date.now() - started < 6000; await sleep(200)) {
    claimed = (await store.claimUsage(10, 60_000).catch(() => [])).map((r) => r.id);
  }
  expect(claimed).toEqual([id]);
}, 30_000);
