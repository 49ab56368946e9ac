import { createEntitlements } from '../../src/core';
import { customer, startRig } from './helpers';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass 4 on issue 23 (settle(units): "a count that is not a finite number >= 0 throws a
// TypeError"). 1e308 was taken; two of them (two processes, or a count read from the request) added up
// to Infinity: the emulator could not answer with that usage (500, transient), the report was retried
// for ever, and the open circuit breaker refused another customer's first request (503). A unit count
// (settle, requestedUsage) is now at most Number.MAX_SAFE_INTEGER, a report's value within ±that.

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
const rig = forSuite(() =>
  startRig(
    ['huge-units', 'bystander'].map((id) => customer(id, 'plan-revvenu-basic')),
    {},
    { maxRetries: 0 },
  ),
);
const emu = onFirstUse(() => rig.emulator);
const client = onFirstUse(() => rig.client);

const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> =>
  Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);

test('settle(1e308) is refused; two settles at the cap are delivered and another customer is served', async () => {
  const first = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const second = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  try {
    const a = await first.acquire({ customerId: 'huge-units', featureId: TEMPLATES, requestedUsage: 1 });
    const b = await second.acquire({ customerId: 'huge-units', featureId: TEMPLATES, requestedUsage: 1 });
    expect([a.decision.granted, b.decision.granted]).toEqual([true, true]);
    expect(() => a.settle(1e308)).toThrow(/at most Number.MAX_SAFE_INTEGER/);
    expect(() => first.report({ customerId: 'huge-units', featureId: TEMPLATES, value: 1e308 })).toThrow(TypeError);
    a.settle(Number.MAX_SAFE_INTEGER);
    b.settle(Number.MAX_SAFE_INTEGER);
    await first.flush();
    const flushed = await within(second.flush(), 3_000);
    const bystander = await second.acquire({ customerId: 'bystander', featureId: TEMPLATES, requestedUsage: 1 });
    bystander.release();
    expect({
      flushed,
      breaker: second.health().breaker,
      bystander: bystander.decision.granted,
      usage: emu.stats().usage[`huge-units||${TEMPLATES}`],
    }).toEqual({ flushed: undefined, breaker: 'closed', bystander: true, usage: 2 * Number.MAX_SAFE_INTEGER });
  } finally {
    await first.close({ timeoutMs: 200 });
    await second.close({ timeoutMs: 200 });
  }
});
