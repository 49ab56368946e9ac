// Run: npx jest --testMatch '**/*.repro.ts' -- test/attack/repro/renewal-wall-clock-step.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a
// test then (a row in test/attack/wall-clock-step.test.ts: the next 3 denied, 3 counted, no warning).
import { StiggClient } from '../../../src/client';
import { createEntitlements } from '../../../src/core';
import type { Logger } from '../../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../../src/emulator';

// Adversarial pass 4 on issue 23 (a request at work keeps its units: its reservation is renewed up to
// reservationMaxMs). The memory store's TTLs now run on a monotonic clock (test/attack/wall-clock-step.test.ts),
// but Reservations.renew (src/core/leases.ts, not changed in this pass) still times reservationMaxMs on the
// engine's wall clock (lease.reservedAt = runtime.now()): a wall-clock step of more than reservationMaxMs (1 h;
// NTP stepping a clock left wrong, a system time set by hand) makes every request at work look an hour old. Its
// renewals stop, each reservation lapses reservationTtlMs later, and the limit is granted again while the work
// goes on. Measured (limit 3, 3 at work, reservationTtlMs 600, the clock stepped 2 h for 1.5 s): 3 more granted,
// 6 counted, 3 warnings "neither committed nor released within reservationMaxMs" for requests 1.5 s old.
// Fix hint: time reservedAt / reservationMaxMs on core/clock.ts's steadyClock (a monotonic clock the
// Reservations own), not runtime.now; the Redis store's TTLs follow Redis's own clock (TIME), which a step on
// the Redis host moves the same way.

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
let emu: Emulator;
let client: StiggClient;
beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'renew-step', subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  });
  client = new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 });
});
afterAll(() => emu.stop());

test('a wall-clock step of 2 h while 3 requests hold the limit of 3: their renewals stop, 3 more granted', async () => {
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (_fields, message) => void warnings.push(String(message)) };
  const entitlements = createEntitlements({ client, logger, reservationTtlMs: 600, usage: { flushIntervalMs: 60_000 } });
  const input = { customerId: 'renew-step', featureId: TEMPLATES, requestedUsage: 1 };
  const wall = Date.now.bind(Date);
  try {
    const atWork = await Promise.all([0, 1, 2].map(() => entitlements.acquire(input)));
    const step = jest.spyOn(Date, 'now').mockImplementation(() => wall() + 2 * 3_600_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // renewals every 200 ms; a lapsed one goes 600 ms later
    } finally {
      step.mockRestore();
    }
    const later = await Promise.all([0, 1, 2].map(() => entitlements.acquire(input)));
    for (const lease of [...atWork, ...later]) if (lease.decision.granted) lease.commit();
    await entitlements.flush();
    expect({
      later: later.map((lease) => lease.decision.granted),
      counted: emu.stats().usage[`renew-step||${TEMPLATES}`] ?? 0,
      warnings: warnings.filter((message) => message.includes('within reservationMaxMs')).length,
    }).toEqual({ later: [true, true, true], counted: 6, warnings: 3 });
  } finally {
    await entitlements.close();
  }
});
