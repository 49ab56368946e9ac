// Repro (issue 26, finding 8's fix, adversarial pass): a RedisStore built on the app's own ioredis
// client closes itself for good on the client's 'end' — but 'end' is also what a client whose
// `retryStrategy` gives up emits after a blip (`retryStrategy: () => null`, or `n > 5 ? null : …`),
// and the app may then `connect()` the same client again. The client answers PONG, the store keeps
// throwing "the store is closed; create a new RedisStore": every decision goes to the failure
// policy (503 fail-closed) until the process restarts. Measured: 1 connection kill (CLIENT KILL of
// this test's own connection on the shared Redis), client reconnected, store reads refused 1 of 1.
// Passes while the bug exists. A fix (src/redis, owned by another helper): on 'end' release the
// store's own handles (subscriber, timers) without closing it, and resume on the client's 'ready'.
// Run: npx jest test/attack/repro/app-client-reconnect.repro.ts --testMatch '**/*.repro.ts'
import { Redis } from 'ioredis';
import { RedisStore } from '../../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from '../../redis/helpers';

requireRedis();

test('a store on the app client stays closed after the client ended and was connected again', async () => {
  const prefix = uniquePrefix();
  const admin = await connectRedis();
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  await client.connect();
  const store = new RedisStore({ redis: client, prefix, logger: { warn: () => undefined, error: () => undefined } });
  try {
    await store.setEntitlement('k', 'c', { currentUsage: 0 } as never, 60_000);
    expect(await store.getEntitlement('k')).toBeDefined();
    const ended = new Promise((resolve) => client.once('end', resolve));
    await admin.client('KILL', 'ID', String(await client.client('ID')));
    await ended;
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    await expect(Promise.resolve(store.getEntitlement('k'))).rejects.toThrow(/the store is closed/);
  } finally {
    await store.close();
    await deleteKeys(admin, prefix);
    client.disconnect();
    admin.disconnect();
  }
});
