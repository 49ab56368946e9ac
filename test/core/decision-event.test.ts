import type { Decision } from '../../src/core/types';
import { customer, startRig, TEMPLATES } from './helpers';
import { forSuite } from '../support/suite';

// 'decision': one event per decision check() and acquire() return, whatever its source, carrying
// the decision the caller got (the seam telemetry and check reports hang on).

const rig = forSuite(() =>
  startRig(
    [customer('ten', 'plan-revvenu-essentials', { usage: [{ featureId: TEMPLATES, value: 8 }] }), customer('basic', 'plan-revvenu-basic')],
    {},
    { maxRetries: 0 },
  ),
);

function recorder(): { decisions: Decision[]; listener: (decision: Decision) => void } {
  const decisions: Decision[] = [];
  return { decisions, listener: (decision) => decisions.push(decision) };
}

test('check() and acquire() each emit the decision they return: upstream, then cache, granted and denied', async () => {
  const entitlements = rig.make();
  const { decisions, listener } = recorder();
  entitlements.on('decision', listener);
  const first = await entitlements.check({ customerId: 'ten', featureId: TEMPLATES, requestedUsage: 1 });
  const lease = await entitlements.acquire({ customerId: 'ten', featureId: TEMPLATES, requestedUsage: 2 });
  const denied = await entitlements.acquire({ customerId: 'ten', featureId: TEMPLATES, requestedUsage: 1 });
  lease.release();
  expect(decisions).toHaveLength(3);
  expect(decisions[0]).toBe(first);
  expect(decisions[1]).toBe(lease.decision);
  expect(decisions[2]).toBe(denied.decision);
  expect(decisions.map((decision) => [decision.granted, decision.source, decision.accessDeniedReason])).toEqual([
    [true, 'upstream', null],
    [true, 'cache', null],
    [false, 'cache', 'RequestedUsageExceedingLimit'],
  ]);
});

test('a fallback decision during an outage is emitted with its source', async () => {
  const entitlements = rig.make({ fallback: { [TEMPLATES]: { hasAccess: true, usageLimit: 4 } } });
  const { decisions, listener } = recorder();
  entitlements.on('decision', listener);
  rig.emulator.setFaults({ failureRate: 1 });
  try {
    const lease = await entitlements.acquire({ customerId: 'basic', featureId: TEMPLATES, requestedUsage: 1 });
    lease.release();
  } finally {
    rig.emulator.setFaults({ failureRate: 0 });
  }
  expect(decisions.map((decision) => [decision.granted, decision.source])).toEqual([[true, 'fallback']]);
});

test('no event once the listener is gone, and a throwing listener does not fail the check', async () => {
  const entitlements = rig.make({ logger: { warn: () => undefined, error: () => undefined } });
  const { decisions, listener } = recorder();
  entitlements.on('decision', listener);
  entitlements.off('decision', listener);
  entitlements.on('decision', () => {
    throw new Error('listener bug');
  });
  const decision = await entitlements.check({ customerId: 'ten', featureId: TEMPLATES, requestedUsage: 1 });
  expect(decision.granted).toBe(true);
  expect(decisions).toHaveLength(0);
});
