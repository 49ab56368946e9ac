// Fixed (issue 22 review): every feature that misses while a
// customer's set read is out resolves from the same promise, so their cache writes and their
// reservations interleave in one microtask run. With the memory store, a feature's entry written
// and then evicted by its siblings' writes (LRU, cache.maxEntries) before its reserve() is reserved
// against usage 0 (MemoryStore.reserve reads a missing entry as 0): granted past the limit, and the
// decision says currentUsage 0. Before set reads each feature's answer came in its own macrotask.
// Only reachable when one customer's concurrently missing features outnumber cache.maxEntries.
// Observed before the fix: maxEntries 4 → 6 of 10 features at 5/5 granted; 9 → 1; 10 and more → none.
// Now reserve() takes the usage the caller decided with, for an entry the store no longer holds.
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { defaultCatalog, startEmulator } from '../../src/emulator';

const TEN = Array.from({ length: 10 }, (_, i) => `feature-x${i}`);

it.each([4, 9, 100])('10 features at their limit (5/5), asked at once, cache.maxEntries %i: none granted', async (maxEntries) => {
  const emulator = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      features: [
        ...defaultCatalog.features,
        ...TEN.map((id) => ({ id, featureType: 'NUMBER' as const, meterType: 'Incremental' as const })),
      ],
      plans: [
        ...defaultCatalog.plans,
        {
          id: 'plan-ten',
          productId: 'product-revvenu',
          pricingType: 'FREE',
          entitlements: TEN.map((featureId) => ({ featureId, usageLimit: 5 })),
        },
      ],
      customers: [{ id: 'ten', subscriptions: [{ planId: 'plan-ten' }], usage: TEN.map((featureId) => ({ featureId, value: 5 })) }],
    },
  });
  const entitlements = createEntitlements({
    client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }),
    cache: { maxEntries },
  });
  try {
    const leases = await Promise.all(TEN.map((featureId) => entitlements.acquire({ customerId: 'ten', featureId, requestedUsage: 1 })));
    const granted = leases.filter((lease) => lease.decision.granted);
    for (const lease of leases) lease.release();
    expect(granted.map((lease) => `${lease.decision.featureId} at ${String(lease.decision.currentUsage)}`)).toEqual([]);
  } finally {
    await entitlements.close();
    await emulator.stop();
  }
});
