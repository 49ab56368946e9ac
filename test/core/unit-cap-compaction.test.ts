import { StiggClient } from '../../src/client';
import { createEntitlements, type EntitlementsUpstream } from '../../src/core';
import { MemoryStore } from '../../src/core/memory-store';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { forSuite } from '../support/suite';

/*
 * Attack (unit counts capped at Number.MAX_SAFE_INTEGER): each report is checked, but the memory
 * outbox, full, compacts the DELTAs of a key by adding them up — it only refuses a sum that is not
 * finite. Two reports of Number.MAX_SAFE_INTEGER merge into one of 2^54 - 2: a report value past the
 * cap, the count no longer exact, sent to Stigg.
 */
const FEATURE = 'feature-02-campaigns';

const emulator = forSuite(() =>
  startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: 'cap-1', subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  }),
);

it('a compacted outbox never sends a report value past Number.MAX_SAFE_INTEGER', async () => {
  const real = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  const sent: number[] = [];
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => real.getEntitlement(query),
    reportUsageBulk: (input) => {
      for (const usage of input.usages) sent.push(usage.value);
      return real.reportUsageBulk(input);
    },
  };
  const store = new MemoryStore({ maxPendingUsage: 2 });
  const entitlements = createEntitlements({ client, store, usage: { flushIntervalMs: 60_000 } });
  try {
    for (let i = 0; i < 3; i += 1) {
      try {
        await entitlements.report({ customerId: 'cap-1', featureId: FEATURE, value: Number.MAX_SAFE_INTEGER });
      } catch {
        // full
      }
    }
    await entitlements.flush();
  } finally {
    await entitlements.close();
  }
  console.log(`values sent: ${JSON.stringify(sent)}`);
  expect(sent.filter((value) => Math.abs(value) > Number.MAX_SAFE_INTEGER)).toEqual([]);
});
