import type { PendingUsage } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig } from './helpers';

// close() promises that leases already granted can still commit(): their usage is delivered, or
// handed over ('usage:undelivered'). When close() had finished in time (nothing left to send) and a
// lease committed afterwards while Stigg was down, its report went into the memory outbox and was
// retried without end: never delivered, never handed over (0 of 1 handed over after 1 s with
// close's timeoutMs 200), and a process that exits after `await close()` lost it silently. A late
// commit gets close()'s timeoutMs to be delivered, then is handed over like the rest.
it('a lease committed after close() finished, Stigg down, is handed over within timeoutMs', async () => {
  const rig = await startRig([customer('late-done', 'plan-revvenu-growth')], {}, { maxRetries: 0 });
  try {
    const entitlements = rig.make({ usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 10 }, circuitBreaker: { resetTimeoutMs: 100 } });
    const undelivered: PendingUsage[] = [];
    entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
    const lease = await entitlements.acquire({ customerId: 'late-done', featureId: CAMPAIGNS, requestedUsage: 1 });
    expect(lease.decision.granted).toBe(true);
    await entitlements.close({ timeoutMs: 200 }); // nothing to send: it finishes at once
    rig.emulator.setFaults({ failureRate: 1 });
    lease.commit();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(undelivered.map((report) => [report.customerId, report.value])).toEqual([['late-done', 1]]);
  } finally {
    await rig.stop();
  }
});
