import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Logger } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass 4 on issue 23 (a request at work keeps its units: its reservation is renewed up to
// reservationMaxMs). Reservations.renew timed reservationMaxMs on the engine's wall clock: a step of
// the wall clock of more than reservationMaxMs (NTP stepping a clock left wrong, a system time set by
// hand) made every request at work look an hour old, its renewals stopped, and the limit was granted
// again while the work went on. Measured (limit 3, 3 at work, reservationTtlMs 600, the clock stepped
// 2 h for 1.5 s): 3 more granted, 6 counted, 3 false "reservationMaxMs" warnings. Now timed on a
// monotonic clock (config.steadyNow: the app's own `now` when it gave one). The Redis store's TTLs
// follow Redis's own clock (TIME), which a step on the Redis host moves the same way.

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'renew-step', subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }));

test('a wall-clock step of 2 h while 3 requests hold the limit of 3: their renewals go on, nothing more granted', async () => {
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
    }).toEqual({ later: [false, false, false], counted: 3, warnings: 0 });
  } finally {
    await entitlements.close();
  }
});
