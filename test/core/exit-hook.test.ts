import { createEntitlements } from '../../src/core/entitlements';
import type { EntitlementsUpstream } from '../../src/core/types';

// The engine's 'beforeExit' hook: one process listener however many instances are open (no
// MaxListenersExceededWarning), and none once they are all closed (close() unregisters).

const client: EntitlementsUpstream = {
  getEntitlement: () => Promise.reject(new Error('not used')),
  reportUsageBulk: () => Promise.resolve([]),
};

it('one listener for 20 open instances, none after they are closed', async () => {
  const before = process.listenerCount('beforeExit');
  const instances = Array.from({ length: 20 }, () => createEntitlements({ client }));
  expect(process.listenerCount('beforeExit')).toBe(before + 1);
  await Promise.all(instances.slice(1).map((entitlements) => entitlements.close()));
  expect(process.listenerCount('beforeExit')).toBe(before + 1);
  await instances[0]?.close();
  expect(process.listenerCount('beforeExit')).toBe(before);
});

it('at beforeExit, an instance with usage still queued delivers it and closes; one without stays open', async () => {
  const delivered: number[] = [];
  const recording: EntitlementsUpstream = {
    ...client,
    reportUsageBulk: ({ usages }) => {
      for (const usage of usages) delivered.push(usage.value);
      return Promise.resolve([]);
    },
  };
  const idle = createEntitlements({ client: recording });
  const busy = createEntitlements({ client: recording, usage: { flushIntervalMs: 60_000 } });
  await busy.report({ customerId: 'job', featureId: 'feature-02-campaigns', value: 3 });
  process.emit('beforeExit', 0);
  await busy.flush();
  expect(delivered).toEqual([3]);
  expect(() => busy.report({ customerId: 'job', featureId: 'feature-02-campaigns', value: 1 })).toThrow(/after entitlements.close/);
  expect(() => idle.report({ customerId: 'job', featureId: 'feature-02-campaigns', value: 1 })).not.toThrow();
  await idle.close();
});
