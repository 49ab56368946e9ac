import type { Lease } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig } from './helpers';

// A fallback's usageLimit caps the units it grants per customer, resource and feature in total until
// Stigg answers for that key again (docs/failure-policy.md). The totals were kept in a map bounded by
// cache.maxEntries (10,000) that was cleared whole when a new key found it full: in one outage,
// usageLimit 2, customer A took 2, then 10,000 other keys got one fallback unit each, the map was
// cleared and A was granted 2 more: 4 units out against a cap of 2 (any key's cap reopens, as often
// as an outage sees 10,000 new keys, e.g. resource ids taken from the request). A key that finds the
// map full now gets no fallback grant (503 with Retry-After, as a used-up usageLimit): the totals
// already counted stand. Once Stigg has answered again, the totals of that outage make room.
// (Run with cache.maxEntries 1,000 to keep it short; the default 10,000 broke alike.)
const KEYS = 1_000;

it('1,000 other keys in one outage (cache.maxEntries) do not reopen a fallback usageLimit already used up', async () => {
  const rig = await startRig([customer('fb-a', 'plan-revvenu-growth')], {}, { maxRetries: 0 });
  try {
    const entitlements = rig.make({
      cache: { maxEntries: KEYS },
      circuitBreaker: { resetTimeoutMs: 100 },
      usage: { flushIntervalMs: 600_000 },
      fallback: { [CAMPAIGNS]: { hasAccess: true, usageLimit: 2 } },
    });
    entitlements.on('store:error', () => undefined);
    const attempt = async (customerId: string): Promise<Lease | string> => {
      try {
        return await entitlements.acquire({ customerId, featureId: CAMPAIGNS, requestedUsage: 1 });
      } catch (error) {
        return (error as Error).name;
      }
    };
    rig.emulator.setFaults({ failureRate: 1 });
    const served: Record<string, number> = {};
    const serve = async (customerId: string): Promise<void> => {
      const lease = await attempt(customerId);
      if (typeof lease === 'string' || !lease.decision.granted) return;
      served[customerId] = (served[customerId] ?? 0) + 1;
      lease.commit();
    };
    for (let i = 0; i < 3; i++) await serve('fb-a');
    expect(served['fb-a']).toBe(2);
    for (let i = 0; i < KEYS; i++) await serve(`fb-other-${i}`);
    for (let i = 0; i < 3; i++) await serve('fb-a');
    expect(served['fb-a']).toBe(2);
    expect(served[`fb-other-${KEYS - 1}`]).toBeUndefined(); // the totals are full: 503

    // Stigg answers (for one key): the next outage's new keys get their fallback again.
    rig.emulator.setFaults({ failureRate: 0 });
    await new Promise((resolve) => setTimeout(resolve, 150)); // the breaker's resetTimeoutMs
    await serve('fb-a');
    expect(served['fb-a']).toBe(3);
    rig.emulator.setFaults({ failureRate: 1 });
    await serve('fb-new-1');
    await serve('fb-new-2');
    expect([served['fb-new-1'], served['fb-new-2']]).toEqual([1, 1]);
  } finally {
    await rig.stop();
  }
}, 60_000);
