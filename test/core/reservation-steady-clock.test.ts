import { StiggClient } from '../../src/client';
import { createEntitlements, type UsageOverrun } from '../../src/core';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass 4 on issue 23 (the reservation of a request at work holds its units until it
// settles; renewed while it works). The memory store timed its reservations on Date.now: a step of the
// wall clock (NTP stepping a drifted clock, a system time set by hand or by a VM's clock sync) of more
// than reservationTtlMs (60 s) expired every reservation still at work at once, and the limit was
// granted again. Measured (limit 3, 3 requests at work, the clock stepped 90 s): 3 more granted, 6
// counted, no 'usage:overrun'. Its TTLs now run on a monotonic clock (util/clock.ts steadyClock).
// Date.now is mocked because the wall clock is what must jump; timers stay real.

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'clock-step', subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }));

test('a wall-clock step of 90 s while 3 requests hold the limit of 3: the next 3 are denied, 3 counted', async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const overruns: UsageOverrun[] = [];
  entitlements.on('usage:overrun', (overrun) => overruns.push(overrun));
  const input = { customerId: 'clock-step', featureId: TEMPLATES, requestedUsage: 1 };
  const wall = Date.now.bind(Date);
  try {
    const atWork = await Promise.all([0, 1, 2].map(() => entitlements.acquire(input)));
    const step = jest.spyOn(Date, 'now').mockImplementation(() => wall() + 90_000);
    let later;
    try {
      await new Promise((resolve) => setTimeout(resolve, 10)); // past the clocks' 1 ms caches
      later = await Promise.all([0, 1, 2].map(() => entitlements.acquire(input)));
      for (const lease of [...atWork, ...later]) if (lease.decision.granted) lease.commit();
    } finally {
      step.mockRestore();
    }
    await entitlements.flush();
    expect({
      atWork: atWork.map((lease) => lease.decision.granted),
      later: later.map((lease) => lease.decision.granted),
      counted: emu.stats().usage[`clock-step||${TEMPLATES}`] ?? 0,
      overruns: overruns.length,
    }).toEqual({ atWork: [true, true, true], later: [false, false, false], counted: 3, overruns: 0 });
  } finally {
    await entitlements.close();
  }
});
