import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements, EntitlementsUpstream, PendingUsage } from '../../src/core/types';
import { customer, startRig, TEMPLATES, usageKey, closedAfterEach, badUserInput } from './helpers';
import { forSuite } from '../support/suite';

// A Stigg that refuses calls whatever the reports (a flapping deployment: every other reportUsageBulk
// answered BAD_USER_INPUT) is not a Stigg refusing bad reports. A report refused, then refused again
// alone, used to be dropped as a bad one whenever other singles were taken: 18 of 100 good units
// were dropped. Stigg taking a report (or a batch's every report) it had just refused is a refusal
// it contradicted: for a while no refusal drops anything, and what it refused is tried again later.

const opened = closedAfterEach({ timeoutMs: 1_000 });
const rig = forSuite(() =>
  startRig(
    ['flap', 'flap-bad', 'steady'].map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0 },
  ),
);
const applied = (customerId: string): number => rig.emulator.stats().usage[usageKey(customerId, TEMPLATES)] ?? 0;
/** Stigg (the emulator) refusing a call when `refuses(call)` (1-based), and always a report of customer "nobody". */
function flapping(refuses: (call: number) => boolean): EntitlementsUpstream {
  let calls = 0;
  return {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) => {
      calls += 1;
      const bad = input.usages.some((usage) => usage.customerId === 'nobody');
      return refuses(calls) || bad ? Promise.reject(badUserInput()) : rig.client.reportUsageBulk(input);
    },
  };
}

function make(client: EntitlementsUpstream, now: () => number, dropped: PendingUsage[]): Entitlements {
  const logger = { warn: () => undefined, error: () => undefined };
  const entitlements = createEntitlements({ client, now, logger, usage: { flushIntervalMs: 60_000, leaseMs: 1_000, batchSize: 10 } });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  opened.push(entitlements);
  return entitlements;
}

test.each([
  ['every other call', (call: number) => call % 2 === 0],
  ['every third call', (call: number) => call % 3 === 0],
  ['two calls in three', (call: number) => call % 3 !== 1],
])('a Stigg refusing %s drops no good report: 100 of 100 units delivered', async (_name, refuses) => {
  const customerId = 'flap';
  let now = Date.parse('2026-12-07T12:00:00Z');
  const dropped: PendingUsage[] = [];
  const entitlements = make(flapping(refuses), () => now, dropped);
  const before = applied(customerId);
  for (let i = 0; i < 100; i += 1) void entitlements.report({ customerId, featureId: TEMPLATES, value: 1 });
  for (let round = 0; round < 30 && applied(customerId) - before < 100; round += 1) {
    await entitlements.flush();
    now += 31_000;
  }
  expect(dropped).toEqual([]);
  expect(applied(customerId) - before).toBe(100);
});

test('a bad report amid a flapping Stigg is kept while Stigg contradicts itself, and dropped once it has been steady for a minute', async () => {
  let now = Date.parse('2026-12-07T12:00:00Z');
  let flaps = true;
  const dropped: PendingUsage[] = [];
  const entitlements = make(
    flapping((call) => flaps && call % 2 === 0),
    () => now,
    dropped,
  );
  void entitlements.report({ customerId: 'nobody', featureId: TEMPLATES, value: 7 });
  for (let i = 0; i < 9; i += 1) void entitlements.report({ customerId: 'flap-bad', featureId: TEMPLATES, value: 1 });
  for (let round = 0; round < 5; round += 1) {
    await entitlements.flush();
    now += 2_000;
  }
  expect(dropped).toEqual([]);
  expect(applied('flap-bad')).toBe(9);

  // Steady again: while the last contradiction is under a minute old the bad report stays; then it goes.
  flaps = false;
  void entitlements.report({ customerId: 'steady', featureId: TEMPLATES, value: 1 });
  await entitlements.flush();
  expect(dropped).toEqual([]);
  now += 61_000;
  void entitlements.report({ customerId: 'steady', featureId: TEMPLATES, value: 1 });
  await entitlements.flush();
  expect(applied('steady')).toBe(2);
  expect(dropped.map((report) => [report.customerId, report.value])).toEqual([['nobody', 7]]);
});

test('a refused batch whose every report is then taken one by one is a contradiction too: a good report refused twice soon after is kept, not dropped', async () => {
  let now = Date.parse('2026-12-07T12:00:00Z');
  const dropped: PendingUsage[] = [];
  // Call 1: the batch of 10, refused, then taken report by report (2–11). Calls 12–15: the next batch
  // of two, refused; its first report refused, the second taken; the first refused again on its own.
  const entitlements = make(
    flapping((call) => [1, 12, 13, 15].includes(call)),
    () => now,
    dropped,
  );
  const before = applied('flap');
  for (let i = 0; i < 10; i += 1) void entitlements.report({ customerId: 'flap', featureId: TEMPLATES, value: 1 });
  await entitlements.flush();
  expect(applied('flap') - before).toBe(10);
  for (let i = 0; i < 2; i += 1) void entitlements.report({ customerId: 'flap', featureId: TEMPLATES, value: 1 });
  await entitlements.flush();
  expect(dropped).toEqual([]);
  now += 2_000;
  await entitlements.flush();
  expect(applied('flap') - before).toBe(12);
});
