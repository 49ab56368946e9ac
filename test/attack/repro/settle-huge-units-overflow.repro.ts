// Run: npx jest --testMatch '**/*.repro.ts' -- test/attack/repro/settle-huge-units-overflow.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a
// test then (the second count refused with a TypeError, or its report refused for good; the other customer granted).
import { StiggClient } from '../../../src/client';
import { createEntitlements, EntitlementUnavailableError } from '../../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../../src/emulator';

// Adversarial pass 4 on issue 23 (settle(units): "a count that is not a finite number >= 0 throws a
// TypeError"). 1e308 is a finite number >= 0, so it is taken; two of them (two processes, or a count
// an app reads from the request: onAbort's `req.body.tokens`) add up to Infinity. The emulator applies
// the second report, then cannot serialise the usage it answers with (GraphQL: "Float cannot represent
// non numeric value: Infinity", INTERNAL_SERVER_ERROR): a transient failure to the client, retried
// forever, and it opens the Stigg circuit breaker that reads share. Measured: flush() still pending after
// 3 s, the breaker open, and another customer's first request refused (EntitlementUnavailableError,
// 503), Stigg's usage for the first customer Infinity. One customer's units take Stigg away from all.
// Fix hint: bound a unit count where it is checked (core/leases.ts checkActualUnits, core/input.ts's
// requestedUsage: at most Number.MAX_SAFE_INTEGER, past which units are no longer counted exactly),
// and have the emulator refuse a report whose total would not be finite (BadUserInput: permanent,
// dropped loudly) rather than answer 500.

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
let emu: Emulator;
let client: StiggClient;
beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: ['huge-units', 'bystander'].map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
    },
  });
  client = new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 });
});
afterAll(() => emu.stop());

const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> =>
  Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);

test('two settles of 1e308 by two engines: Stigg fails, the breaker opens, another customer is refused', async () => {
  const first = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const second = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  try {
    const a = await first.acquire({ customerId: 'huge-units', featureId: TEMPLATES, requestedUsage: 1 });
    const b = await second.acquire({ customerId: 'huge-units', featureId: TEMPLATES, requestedUsage: 1 });
    expect([a.decision.granted, b.decision.granted]).toEqual([true, true]);
    a.settle(1e308);
    b.settle(1e308);
    await first.flush();
    const flushed = await within(second.flush(), 3_000);
    const bystander = await Promise.resolve(second.acquire({ customerId: 'bystander', featureId: TEMPLATES, requestedUsage: 1 })).catch(
      (error: unknown) => error,
    );
    expect({
      flushed,
      breaker: second.health().breaker,
      bystander: bystander instanceof EntitlementUnavailableError,
      usage: emu.stats().usage[`huge-units||${TEMPLATES}`],
    }).toEqual({ flushed: 'pending', breaker: 'open', bystander: true, usage: Infinity });
  } finally {
    await first.close({ timeoutMs: 200 });
    await second.close({ timeoutMs: 200 });
  }
});
