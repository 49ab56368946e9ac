// Run: npx jest --testMatch '**/*.repro.ts' test/attack/repro/flapping-refusal.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a test then.
import { StiggGraphQLError } from '../../../src/client';
import { createEntitlements } from '../../../src/core/entitlements';
import type { Entitlements, EntitlementsUpstream, PendingUsage } from '../../../src/core/types';
import { customer, startRig, TEMPLATES, usageKey, type Rig } from '../../core/helpers';

// Adversarial pass on issue 23 (unfixed): a Stigg that refuses every other reportUsageBulk call with
// BAD_USER_INPUT, whatever the reports (a flapping deployment, not bad reports). Every report is
// good, yet a split batch's single refused on an even call, then refused again when asked once more
// (confirmRefusals), is taken for a bad report and dropped because other singles were taken: 18 of
// 100 units dropped (batchSize 10). A fix would drop a report only once refused across separate
// drains (or N times), not twice within one split; not small enough for this pass.

let rig: Rig;
let entitlements: Entitlements | undefined;
beforeAll(async () => {
  rig = await startRig([customer('flap', 'plan-revvenu-growth')], {}, { maxRetries: 0 });
});
afterEach(async () => {
  await entitlements?.close({ timeoutMs: 1_000 });
});
afterAll(() => rig.stop());

const badUserInput = (): StiggGraphQLError =>
  new StiggGraphQLError('reportUsageBulk', 200, [
    { message: 'Variable "$input" got invalid value', extensions: { code: 'BAD_USER_INPUT' } },
  ]);

test('Repro (unfixed): a Stigg refusing every other call drops good reports as bad ones', async () => {
  let now = Date.parse('2026-12-07T12:00:00Z');
  let calls = 0;
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) => {
      calls += 1;
      return calls % 2 === 0 ? Promise.reject(badUserInput()) : rig.client.reportUsageBulk(input);
    },
  };
  const dropped: PendingUsage[] = [];
  entitlements = createEntitlements({ client, now: () => now, usage: { flushIntervalMs: 60_000, leaseMs: 1_000, batchSize: 10 } });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  for (let i = 0; i < 100; i += 1) void entitlements.report({ customerId: 'flap', featureId: TEMPLATES, value: 1 });
  for (let round = 0; round < 20; round += 1) {
    await entitlements.flush();
    now += 31_000;
  }
  const applied = rig.emulator.stats().usage[usageKey('flap', TEMPLATES)] ?? 0;
  // Every unit is either applied or dropped (nothing parked forever), and good ones were dropped.
  expect(applied + dropped.reduce((sum, report) => sum + report.value, 0)).toBe(100);
  expect(dropped.length).toBeGreaterThan(0);
});
