// Run: npx jest --testMatch '**/*.repro.ts' -- test/attack/repro/shadow-full-outbox-drops.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a test then.
import { MemoryStore } from '../../../src/core';
import type { Lease } from '../../../src/core/types';
import { CAMPAIGNS, customer, startRig, type Rig } from '../../core/helpers';

// Adversarial pass on issues 26 (fix 5: "past the bound of held commits, metered grants answer 503
// whatever the fail mode ... 0 units served and dropped") and shadow mode (docs/shadow.md: "a would-be
// 503 on a metered route reports its units once Stigg is back, as a fail-open grant does"). Shadow
// mode turns the 503 of a full outbox into a served request like any would-be 503 (source 'shadow',
// metered), and its commit is then refused by the same full outbox: room for 3 reports
// (maxPendingUsage 3), Stigg down, 6 metered requests: enforcement and failMode 'open' serve 3 and
// answer 503 to 3 (test/attack/outbox-bound.test.ts); shadow mode serves 6, drops 3 reports
// ('usage:dropped'), Stigg counts 3 — warm cache or cold alike. By reading the code (not measured: it
// takes 100,000 held commits), the Redis store's bound of held commits goes the same way
// (HeldCommitsFullError reaches shadow mode through the same policy.unavailable path).
// A fix is a decision about shadow mode: answer 503 for a refusal of the outbox (OutboxFullError /
// HeldCommitsFullError as the 503's cause) in Shadow.unavailableDecision, as failMode 'open' does, or
// serve such a request with `metered: false` and count it as its own kind (documented as unreported).

const CUSTOMERS = ['sh-1', 'sh-2', 'sh-3', 'sh-4', 'sh-5', 'sh-6'];
let rig: Rig;
beforeAll(async () => {
  rig = await startRig(
    CUSTOMERS.map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0 },
  );
});
afterAll(() => rig.stop());

test.each([
  ['entitlements cached', true],
  ['nothing cached', false],
])(
  'Repro (unfixed): shadow mode, a full memory outbox during an outage, %s: 6 served, 3 reports dropped, 3 counted',
  async (_name, warm) => {
    const entitlements = rig.make({ store: new MemoryStore({ maxPendingUsage: 3 }), usage: { flushIntervalMs: 60_000 }, mode: 'shadow' });
    const dropped: unknown[] = [];
    entitlements.on('usage:dropped', (report) => dropped.push(report));
    const before = Object.fromEntries(CUSTOMERS.map((id) => [id, rig.emulator.stats().usage[`${id}||${CAMPAIGNS}`] ?? 0]));
    if (warm) for (const id of CUSTOMERS) await entitlements.check({ customerId: id, featureId: CAMPAIGNS });
    rig.emulator.setFaults({ failureRate: 1 });
    let served = 0;
    try {
      for (const id of CUSTOMERS) {
        const lease: Lease = await entitlements.acquire({ customerId: id, featureId: CAMPAIGNS, requestedUsage: 1 });
        if (!lease.decision.granted) continue;
        served += 1;
        lease.commit();
      }
    } finally {
      rig.emulator.setFaults({ failureRate: 0 });
    }
    await entitlements.flush();
    let counted = 0;
    for (const id of CUSTOMERS) counted += (rig.emulator.stats().usage[`${id}||${CAMPAIGNS}`] ?? 0) - (before[id] ?? 0);
    await entitlements.close();
    expect({ served, dropped: dropped.length, counted }).toEqual({ served: 6, dropped: 3, counted: 3 });
  },
);
