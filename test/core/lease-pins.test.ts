// Leases (src/core/leases.ts): where a one-token change grants units another request holds, denies a customer who
// has room, counts a lease that reports nothing against the outbox bound (503s for paying customers), or serves a
// fallback unit its report cannot keep. The engine over HTTP against the emulator, the memory store. Each test is
// named for the behaviour it pins and was run against its mutants, applied by hand (issue 25).
import { MemoryStore } from '../../src/core';
import { EntitlementUnavailableError } from '../../src/core/errors';
import type { Entitlements } from '../../src/core/types';
import { CAMPAIGNS, CUSTOM_DOMAIN, TEMPLATES, customer, startRig, type Rig } from './helpers';

// c-basic: campaigns 4 a month, templates 3, no custom domain. c-growth: templates unlimited, custom domain.
const BASIC = ['lp-basic-1', 'lp-basic-2', 'lp-basic-3', 'lp-basic-4', 'lp-basic-5', 'lp-basic-6', 'lp-basic-7'];
const GROWTH = ['lp-growth-1', 'lp-growth-2', 'lp-growth-3'];
let rig: Rig;

beforeAll(async () => {
  rig = await startRig(
    [...BASIC.map((id) => customer(id, 'plan-revvenu-basic')), ...GROWTH.map((id) => customer(id, 'plan-revvenu-growth'))],
    {},
    { maxRetries: 0 },
  );
});

afterAll(async () => {
  await rig.stop();
});

afterEach(() => rig.emulator.setFaults({ failureRate: 0 }));

const acquire = async (entitlements: Entitlements, customerId: string, featureId: string, requestedUsage?: number) =>
  entitlements.acquire({ customerId, featureId, ...(requestedUsage === undefined ? {} : { requestedUsage }) });

// Mutants: lease()'s `!needsReservation(...)` → true (no reservation: the second request granted the first's units),
// false (an unlimited feature reserved against a limit of 0: denied); reservedLease()'s currentUsage (`- requested` →
// `+`); decision()'s count of the units held (its block emptied, never counted, `+ reserved` → `-`).
test('units one request holds are not granted to another, by acquire() or check(); the decisions show the usage before them', async () => {
  const entitlements = rig.make({ usage: { flushIntervalMs: 60_000 } });
  const id = BASIC[0] as string;
  const first = await acquire(entitlements, id, CAMPAIGNS, 3);
  expect(first.decision).toMatchObject({ granted: true, currentUsage: 0, usageLimit: 4 });
  expect((await acquire(entitlements, id, CAMPAIGNS, 2)).decision).toMatchObject({
    granted: false,
    accessDeniedReason: 'RequestedUsageExceedingLimit',
  });
  expect(await entitlements.check({ customerId: id, featureId: CAMPAIGNS, requestedUsage: 2 })).toMatchObject({ granted: false });
  expect(await entitlements.check({ customerId: id, featureId: CAMPAIGNS, requestedUsage: 1 })).toMatchObject({
    granted: true,
    currentUsage: 3,
  });
  const second = await acquire(entitlements, id, CAMPAIGNS, 1);
  expect(second.decision).toMatchObject({ granted: true, currentUsage: 3 });
  first.release();
  second.release();
});

test('an unlimited feature grants any count, and a boolean feature is answered', async () => {
  const entitlements = rig.make({ usage: { flushIntervalMs: 60_000 } });
  const id = GROWTH[0] as string;
  const lease = await acquire(entitlements, id, TEMPLATES, 50);
  expect(lease.decision).toMatchObject({ granted: true, hasUnlimitedUsage: true });
  lease.commit();
  expect((await acquire(entitlements, id, CUSTOM_DOMAIN)).decision.granted).toBe(true);
  expect(await entitlements.check({ customerId: id, featureId: TEMPLATES, requestedUsage: 50 })).toMatchObject({ granted: true });
});

// Mutants: the lease's `counted` condition (true, `||` for either `&&`, `requestedUsage >= 0`) and markSettled()'s
// `counted !== undefined` → true: denied, boolean or 0-unit leases counted as reports to come (or uncounted when they
// never were), so the outbox bound refused metered requests of customers with room (503).
test('only a granted metered lease of units counts against the outbox bound; the others never fill it', async () => {
  const store = new MemoryStore({ maxPendingUsage: 2 });
  const entitlements = rig.make({ store, usage: { flushIntervalMs: 60_000 } });
  const basic = BASIC[1] as string;
  const growth = GROWTH[1] as string;
  const open = [];
  for (let i = 0; i < 3; i += 1) {
    open.push(await acquire(entitlements, basic, CAMPAIGNS, 9)); // denied: over the limit
    open.push(await acquire(entitlements, growth, CUSTOM_DOMAIN)); // boolean
    open.push(await acquire(entitlements, basic, CAMPAIGNS, 0)); // 0 units
    open.push(await acquire(entitlements, basic, CUSTOM_DOMAIN)); // denied: not in the plan
  }
  expect(open.map((lease) => lease.decision.granted)).toEqual([
    false,
    true,
    true,
    false,
    false,
    true,
    true,
    false,
    false,
    true,
    true,
    false,
  ]);
  const metered = await acquire(entitlements, basic, CAMPAIGNS, 1);
  expect(metered.decision.granted).toBe(true);
  for (const lease of open) lease.commit(); // settling them frees nothing they never took
  const next = await acquire(entitlements, basic, CAMPAIGNS, 1);
  expect(next.decision.granted).toBe(true);
  metered.commit();
  next.release();
  (await acquire(entitlements, basic, TEMPLATES, 1)).commit(); // another key: compaction cannot merge the two
  expect(store.pendingUsageCount).toBe(2); // the two metered units; the 0-unit commits queued nothing
  await expect(acquire(entitlements, basic, CAMPAIGNS, 1)).rejects.toBeInstanceOf(EntitlementUnavailableError);
});

// Mutants: lease()'s outbox check (`requested > 0 && accessDeniedReason === null && isMetered`: true, `||`, `>= 0`):
// a full outbox answered 503 to requests that report nothing (a boolean feature, 0 units, a denial).
test('a full outbox refuses metered units only: a boolean feature, 0 units and a denial are still answered', async () => {
  const store = new MemoryStore({ maxPendingUsage: 2 });
  const entitlements = rig.make({ store, usage: { flushIntervalMs: 60_000 } });
  const basic = BASIC[2] as string;
  (await acquire(entitlements, basic, CAMPAIGNS, 1)).commit();
  (await acquire(entitlements, basic, TEMPLATES, 1)).commit(); // two keys: compaction cannot merge them
  await expect(acquire(entitlements, basic, CAMPAIGNS, 1)).rejects.toBeInstanceOf(EntitlementUnavailableError);
  expect((await acquire(entitlements, GROWTH[2] as string, CUSTOM_DOMAIN)).decision.granted).toBe(true);
  expect((await acquire(entitlements, basic, CAMPAIGNS, 0)).decision.granted).toBe(true);
  expect((await acquire(entitlements, basic, CUSTOM_DOMAIN)).decision).toMatchObject({
    granted: false,
    accessDeniedReason: 'NoFeatureEntitlementInSubscription',
  });
});

// Mutants: byPolicy()'s outbox check (`requested > 0 && mayGrant`: false, `requested <= 0`; true, `||`, `>= 0`): Stigg
// down and the outbox full, the fallback served a unit whose report would be dropped, or refused a 0-unit check.
test('Stigg down and the outbox full: the fallback serves no metered unit (503), and still answers 0 units', async () => {
  const store = new MemoryStore({ maxPendingUsage: 2 });
  const entitlements = rig.make({
    store,
    usage: { flushIntervalMs: 60_000 },
    fallback: { [CAMPAIGNS]: { hasAccess: true, usageLimit: 10 } },
  });
  const warm = BASIC[3] as string;
  (await acquire(entitlements, warm, CAMPAIGNS, 1)).commit();
  (await acquire(entitlements, warm, TEMPLATES, 1)).commit();
  rig.emulator.setFaults({ failureRate: 1 });
  const cold = BASIC[4] as string; // nothing cached: the failure policy decides
  await expect(acquire(entitlements, cold, CAMPAIGNS, 1)).rejects.toBeInstanceOf(EntitlementUnavailableError);
  expect((await acquire(entitlements, cold, CAMPAIGNS, 0)).decision).toMatchObject({ granted: true, source: 'fallback' });
  expect(store.pendingUsageCount).toBe(2);
});

// Mutant: release()'s `if (this.settled) return` → false: a release after the commit gave the fallback's units back,
// and the fallback granted past its usageLimit.
test('a release after the commit gives nothing back: the fallback still holds its limit', async () => {
  const entitlements = rig.make({
    usage: { flushIntervalMs: 60_000 },
    fallback: { [CAMPAIGNS]: { hasAccess: true, usageLimit: 2 } },
  });
  rig.emulator.setFaults({ failureRate: 1 });
  const id = BASIC[5] as string;
  const lease = await acquire(entitlements, id, CAMPAIGNS, 2);
  expect(lease.decision).toMatchObject({ granted: true, source: 'fallback' });
  lease.commit();
  lease.release();
  lease.release();
  await expect(acquire(entitlements, id, CAMPAIGNS, 1)).rejects.toBeInstanceOf(EntitlementUnavailableError); // the total is spent
});

// Mutant: reservedLease()'s hold (`granted && renewReservation !== undefined` → false): a request at work longer than
// reservationTtlMs lost its units to the next request (the reservation was never renewed).
test('a request at work past reservationTtlMs keeps its units: its reservation is renewed', async () => {
  const entitlements = rig.make({ usage: { flushIntervalMs: 60_000 }, reservationTtlMs: 150 });
  const id = BASIC[6] as string;
  const lease = await acquire(entitlements, id, CAMPAIGNS, 4);
  expect(lease.decision.granted).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect((await acquire(entitlements, id, CAMPAIGNS, 1)).decision.granted).toBe(false);
  lease.release();
  expect((await acquire(entitlements, id, CAMPAIGNS, 1)).decision.granted).toBe(true);
});

// Mutants: the lease's `live` starting true (settling a lease never held cut the list of held leases at its head:
// the others were no longer renewed and their units lapsed to the next request); reservedLease()'s hold for a denied
// lease (`granted && …` → true, `||`: a denied request renewed as if at work, and warned about as a reservation lost).
test("settling a lease that holds no reservation leaves the others' renewals alone, and a denial is never renewed", async () => {
  const warnings: Array<Record<string, unknown>> = [];
  const entitlements = rig.make({
    usage: { flushIntervalMs: 60_000 },
    reservationTtlMs: 150,
    logger: { warn: (meta) => warnings.push(meta), error: () => undefined },
  });
  const id = GROWTH[2] as string; // campaigns 100 (with the add-on, 110), templates unlimited
  const held = await acquire(entitlements, id, CAMPAIGNS, 100);
  expect(held.decision.granted).toBe(true);
  const limit = held.decision.usageLimit as number;
  const rest = await acquire(entitlements, id, CAMPAIGNS, limit - 100);
  expect(rest.decision.granted).toBe(true);
  const denied = await acquire(entitlements, id, CAMPAIGNS, 1);
  expect(denied.decision.granted).toBe(false);
  (await acquire(entitlements, id, TEMPLATES, 5)).commit(); // unlimited: no reservation
  (await acquire(entitlements, id, CUSTOM_DOMAIN)).commit(); // boolean
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect((await acquire(entitlements, id, CAMPAIGNS, 1)).decision.granted).toBe(false);
  expect(warnings).toEqual([]);
  held.release();
  rest.release();
});
