import { Stigg } from '../../src/client';
import { createEntitlements, EntitlementUnavailableError } from '../../src/core';
import type { EntitlementsOptions } from '../../src/core/entitlements';
import type { PendingUsage } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { closedPort } from './helpers';

// Issue 26, finding 5: Redis down and a permissive policy (failMode 'open', or a fallback). A commit
// the store refuses is held in the process (100,000 at most); past that bound it was dropped while
// grants went on (100,500 served, 500 dropped). Now a metered grant answers 503 first, whatever the
// policy, as the memory store does when its outbox is full: 0 units served and dropped.

const BOUND = 100_000;
const OVER = 500;
const input = { customerId: 'customer-held-bound', featureId: 'feature-02-campaigns', requestedUsage: 1 };

async function run(
  options: Partial<EntitlementsOptions>,
): Promise<{ served: number; refused: number; dropped: number; undelivered: number }> {
  // Stigg and Redis both down: every decision is the policy's, every commit is held in the process.
  const store = new RedisStore({ redis: `redis://127.0.0.1:${await closedPort()}`, commandTimeoutMs: 300, nearCacheMs: 0 });
  const entitlements = createEntitlements({
    client: Stigg.createClient('server-test-key', { apiUrl: `http://127.0.0.1:${await closedPort()}/graphql`, maxRetries: 0 }),
    store,
    ...options,
  });
  let dropped = 0;
  let undelivered = 0;
  entitlements.on('usage:dropped', () => (dropped += 1));
  entitlements.on('usage:undelivered', (reports: PendingUsage[]) => (undelivered += reports.length));
  let served = 0;
  let refused = 0;
  for (let i = 0; i < BOUND + OVER; i++) {
    try {
      const lease = await entitlements.acquire(input);
      if (!lease.decision.granted) continue;
      served += 1;
      lease.commit();
    } catch (error) {
      if (!(error instanceof EntitlementUnavailableError)) throw error;
      refused += 1;
    }
    // Let the store's refusals of the commits land now and then (they are what fills the bound).
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  await entitlements.close({ timeoutMs: 500 });
  await store.close();
  return { served, refused, dropped, undelivered };
}

it("failMode 'open', Redis and Stigg down: past the 100,000 held commits a metered grant answers 503; 0 served and dropped", async () => {
  const { served, refused, dropped, undelivered } = await run({ failMode: 'open' });
  expect(dropped).toBe(0);
  expect(served).toBe(BOUND);
  expect(refused).toBe(OVER);
  // Everything served is handed to the app at close() (Redis still down), none lost.
  expect(undelivered).toBe(served);
}, 120_000);

it('a fallback with access, Redis and Stigg down: the same bound, the same 503', async () => {
  const { served, refused, dropped } = await run({ fallback: { 'feature-02-campaigns': { hasAccess: true } } });
  expect(dropped).toBe(0);
  expect(served).toBe(BOUND);
  expect(refused).toBe(OVER);
}, 120_000);
