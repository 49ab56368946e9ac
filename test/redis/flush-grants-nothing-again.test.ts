import Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Lease } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { closedPort, startRedisServer, stopRedisServer } from './helpers';
import { forSuite } from '../support/suite';

// Adversarial pass on issue 26, fix 3 (Redis that forgets): docs/redis.md lists FLUSHALL among the
// losses the marker key finds, but the marker was read only at first use, on a reconnect and on
// NOSCRIPT, and FLUSHALL / FLUSHDB keep the connection and (Redis 7) the script cache. Measured on a
// redis-server of this file's own: limit 4, 4 leases held, FLUSHDB (or FLUSHALL), then 4 acquires:
// 4 granted (8 at limit 4), the RedisDataLostError only afterwards (when a script's first use happened
// to answer NOSCRIPT). Now a reservation finds the marker changed, the loss is checked and reported
// first (the engine puts its reservations back, the fleet waits dataLossWaitMs), and nothing is
// granted again.

const FEATURE = 'feature-02-campaigns'; // 4 a month on plan-revvenu-basic
const CUSTOMER = 'cust-flushed';

const emulator = forSuite(() =>
  startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);

test.each(['FLUSHDB', 'FLUSHALL'] as const)('%s while 4 of 4 units are held: nothing granted again, the loss reported', async (flush) => {
  emulator.reset();
  const port = await closedPort();
  const server = await startRedisServer(port);
  const admin = new Redis({ port, host: '127.0.0.1' });
  const store = new RedisStore({ redis: `redis://127.0.0.1:${port}`, nearCacheMs: 0, dataLossWaitMs: 1000 });
  const entitlements = createEntitlements({
    client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 }),
    store,
    usage: { flushIntervalMs: 100 },
  });
  const errors: string[] = [];
  entitlements.on('store:error', (error) => errors.push(error.name));
  const acquire = () => entitlements.acquire({ customerId: CUSTOMER, featureId: FEATURE, requestedUsage: 1 });
  try {
    const held: Lease[] = [];
    for (let i = 0; i < 4; i++) held.push(await acquire());
    expect(held.map((lease) => lease.decision.granted)).toEqual([true, true, true, true]);
    await (flush === 'FLUSHDB' ? admin.flushdb() : admin.flushall());
    const after: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const lease = await acquire();
      after.push(lease.decision.granted);
      if (lease.decision.granted) held.push(lease);
    }
    expect(after).toEqual([false, false, false, false]);
    expect(errors).toContain('RedisDataLostError');
    for (const lease of held) lease.commit();
    await entitlements.close(); // lands the commits, then delivers them
    expect(emulator.stats().usage[`${CUSTOMER}||${FEATURE}`]).toBe(4);
  } finally {
    await entitlements.close();
    await store.close();
    admin.disconnect();
    await stopRedisServer(server);
  }
});
