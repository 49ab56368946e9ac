// A refresh whose answer a counting store refused (another process invalidated the customer while it was
// out) is asked again, at most twice (test/redis/invalidation-generation-race.test.ts). A store that
// FAILS is not a refusal: during a store outage each miss must cost one read of Stigg, not three.
import { MemoryStore } from '../../src/core';
import { CAMPAIGNS, customer, entitlementReads, startRig } from './helpers';
import { forSuite } from '../support/suite';

/** A shared-store stand-in (marks, counts unreported usage) whose writes and reads fail: Redis down. */
class DownCountingStore extends MemoryStore {
  readonly countsUnreportedUsage = true;
  usageMark(): number {
    return 0;
  }
  override getEntitlement(): never {
    throw new Error('store down');
  }
  override setEntitlement(): never {
    throw new Error('store down');
  }
}

const rig = forSuite(() => startRig([customer('down-store', 'plan-revvenu-growth')]));

test('a store that fails its write is not a refusal: one read of Stigg per miss', async () => {
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const entitlements = rig.make({ store: new DownCountingStore(), logger, failMode: 'open' });
  const before = entitlementReads(rig.emulator);
  await Promise.resolve(entitlements.check({ customerId: 'down-store', featureId: CAMPAIGNS })).catch(() => undefined);
  expect(entitlementReads(rig.emulator) - before).toBe(1);
});
