import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { EntitlementsUpstream } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { customer, startRig, TEMPLATES, usageKey, type Rig } from '../core/helpers';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';

requireRedis();

// Adversarial pass on issue 23's close() abort: a process whose Stigg takes the usage call and never
// answers closes with a 1 s deadline. The call in flight is aborted, so the batch it held is given
// back to the shared outbox at once and another process delivers it on its next flush — not after
// the claim's lease (60 s here), as when the hanging call outlived close() and kept the batch leased.

let rig: Rig;
let redis: Redis;
let prefix: string;
let hang: http.Server;
beforeAll(async () => {
  rig = await startRig([customer('hung-close', 'plan-revvenu-growth')], {}, { maxRetries: 0 });
  redis = await connectRedis();
  prefix = uniquePrefix();
  hang = http.createServer(() => undefined); // takes the request, never answers
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', () => resolve()));
});
afterAll(async () => {
  hang.closeAllConnections();
  await new Promise((resolve) => hang.close(resolve));
  await deleteKeys(redis, prefix);
  await redis.quit();
  await rig.stop();
});

test('close() at its deadline with a call hanging: the batch goes back to the shared outbox and another process delivers all 3 units at once', async () => {
  const hanging = new StiggClient({
    apiKey: rig.emulator.apiKey,
    apiUrl: `http://127.0.0.1:${(hang.address() as AddressInfo).port}/graphql`,
    timeoutMs: 30_000,
    maxRetries: 0,
  });
  const goneClient: EntitlementsUpstream = {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input, options) => hanging.reportUsageBulk(input, options),
  };
  const quiet = { warn: () => undefined, error: () => undefined };
  const usage = { flushIntervalMs: 3_600_000, leaseMs: 60_000 };
  const goneStore = new RedisStore({ redis: REDIS_URL, prefix });
  const gone = createEntitlements({ client: goneClient, store: goneStore, logger: quiet, usage });
  for (let i = 0; i < 3; i += 1) await gone.report({ customerId: 'hung-close', featureId: TEMPLATES, value: 1 });
  await gone.close({ timeoutMs: 1_000 });
  await goneStore.close();

  const stayStore = new RedisStore({ redis: REDIS_URL, prefix });
  const stay = createEntitlements({ client: rig.client, store: stayStore, logger: quiet, usage });
  try {
    await stay.flush();
    expect(rig.emulator.stats().usage[usageKey('hung-close', TEMPLATES)] ?? 0).toBe(3);
    expect(await redis.hlen(`${prefix}outbox`)).toBe(0);
  } finally {
    await stay.close();
    await stayStore.close();
  }
});
