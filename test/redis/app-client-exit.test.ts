import { runScript } from '../process/script';
import { REDIS_URL, requireRedis, uniquePrefix } from './helpers';

// A RedisStore built on the app's own ioredis client: once the app quit that client (and closed the
// engine), the process exits without store.close(). It kept running (the store's own subscriber
// connection reconnecting, 6 s and more after the app had closed everything else).
requireRedis();

const EXIT_BOUND_MS = 20_000;

it('the app quits its own client and closes the engine: the process exits on its own, store.close() never called', async () => {
  const script = await runScript(
    `
import Redis from 'ioredis';
import { createEntitlements } from 'stigg-gate';
import { RedisStore } from 'stigg-gate/redis';

async function main(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? '');
  const store = new RedisStore({ redis, prefix: process.env.PREFIX });
  const entitlements = createEntitlements({
    client: { getEntitlement: () => Promise.reject(new Error('not used')), reportUsageBulk: () => Promise.resolve([]) },
    store,
  });
  await store.setEntitlement('k', 'c', { currentUsage: 0 } as never, 60_000);
  await store.getEntitlement('k');
  await entitlements.close({ timeoutMs: 100 });
  await redis.quit();
  console.log('app closed');
}
void main();
`,
    { REDIS_URL, PREFIX: uniquePrefix() },
  );
  await script.line(/app closed/);
  const timer = setTimeout(() => script.child.kill('SIGKILL'), EXIT_BOUND_MS);
  const exited = await script.exited;
  clearTimeout(timer);
  // Killed at the bound: the process would have run on. It exits within a second or two on its own.
  expect(exited).toMatchObject({ code: 0, signal: null });
}, 60_000);
