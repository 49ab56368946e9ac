// Run: npx jest --testMatch '**/*.repro.ts' -- test/attack/repro/settle-overrun-unsignalled.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a
// test then (a row in test/attack/settle-overrun-signal.test.ts).
import { StiggClient } from '../../../src/client';
import { createEntitlements, type UsageOverrun } from '../../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../../src/emulator';

// Adversarial pass 3 on src/core/overrun.ts (an overrun judged by the usage after the commit, 656eb10).
// Limit 4 (campaigns, basic plan), A and B reserve 2 each. A settles 3 first: the usage after its
// commit is 3 <= 4, so no signal; B then commits its 2, within its own reservation, so overrun() is
// never asked. Measured (memory store): Stigg counts 5 at a limit of 4, 0 'usage:overrun' events.
// The units past the limit are A's, yet no commit is judged with B's held units in view. Including
// the units others hold in A's judgment reintroduces the false alarm 656eb10 removed (B releasing
// afterwards leaves 3 of 4); a sound fix judges again when a held reservation lands past the limit
// after an overrun of its key (e.g. remember the key's overrun until its reservations settle).

const CAMPAIGNS = 'feature-02-campaigns';
const CUSTOMER = 'c-overrun-late';
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  });
});
afterAll(() => emu.stop());

test('an overrun settled before another grant commits: past the limit, never signalled', async () => {
  const client = new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 });
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const overruns: UsageOverrun[] = [];
  entitlements.on('usage:overrun', (overrun) => overruns.push(overrun));
  let counted: number;
  try {
    const a = await entitlements.acquire({ customerId: CUSTOMER, featureId: CAMPAIGNS, requestedUsage: 2 });
    const b = await entitlements.acquire({ customerId: CUSTOMER, featureId: CAMPAIGNS, requestedUsage: 2 });
    expect([a.decision.granted, b.decision.granted]).toEqual([true, true]);
    a.settle(3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    b.commit();
    await entitlements.flush();
    counted = emu.stats().usage[`${CUSTOMER}||${CAMPAIGNS}`] ?? 0;
  } finally {
    await entitlements.close();
  }
  expect({ counted, overruns: overruns.length }).toEqual({ counted: 5, overruns: 0 });
});
