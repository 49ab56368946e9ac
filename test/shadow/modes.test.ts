import { StiggClient } from '../../src/client';
import { createEntitlements, type EntitlementsOptions } from '../../src/core/entitlements';
import { EntitlementUnavailableError } from '../../src/core/errors';
import type { Decision, Entitlements, Logger } from '../../src/core/types';
import { startEmulator } from '../../src/emulator';
import { ANALYTICS, CAMPAIGNS, MODEL, SEATS, TEMPLATES, traceCatalog } from './trace';
import { forSuite, onFirstUse } from '../support/suite';

// Shadow mode's rules on the engine, against the emulator over HTTP: where the mode comes from, what
// a would-be denial reports, an outage, and that enforcement is untouched.

const made: Entitlements[] = [];

const emulator = forSuite(() => startEmulator({ port: 0, catalog: traceCatalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0, timeoutMs: 2_000 }));
beforeEach(() => {
  emulator.setFaults({ failureRate: 0 });
  emulator.reset();
});
afterEach(async () => {
  await Promise.all(made.splice(0).map((entitlements) => entitlements.close()));
});

function make(options: Omit<EntitlementsOptions, 'client'> = {}): Entitlements {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 }, ...options });
  made.push(entitlements);
  return entitlements;
}

/** Units delivered to Stigg (the 35 basic-near starts with are not among them). */
function delivered(customerId: string, featureId: string): number {
  return emulator.stats().usage[`${customerId}||${featureId}`] ?? 0;
}

/** basic-near has 35 of 40 templates: asks for 5 are granted, the next ask is over the limit. */
async function fillTemplates(entitlements: Entitlements): Promise<void> {
  const lease = await entitlements.acquire({ customerId: 'basic-near', featureId: TEMPLATES, requestedUsage: 5, mode: 'enforce' });
  expect(lease.decision.granted).toBe(true);
  lease.commit();
}

describe('enforcement is untouched', () => {
  test('an enforcing engine denies, with enforced true and nothing counted, whatever other features run in shadow', async () => {
    const entitlements = make({ features: { [CAMPAIGNS]: { mode: 'shadow' } } });
    const shadowed: Decision[] = [];
    entitlements.on('shadow:denied', (decision) => shadowed.push(decision));
    await fillTemplates(entitlements);
    const over = await entitlements.acquire({ customerId: 'basic-near', featureId: TEMPLATES, requestedUsage: 1 });
    const lacking = await entitlements.check({ customerId: 'basic-1', featureId: ANALYTICS });
    for (const decision of [over.decision, lacking]) {
      expect(decision).toMatchObject({ granted: false, enforced: true, wouldDenyReason: null });
    }
    expect(over.decision.accessDeniedReason).toBe('RequestedUsageExceedingLimit');
    over.commit(); // a denied lease reports nothing, committed or not
    await entitlements.flush();
    expect(delivered('basic-near', TEMPLATES)).toBe(5);
    expect(shadowed).toEqual([]);
    expect(entitlements.shadowCounts()).toEqual({ decisions: 0, wouldDeny: 0, byReason: {}, unavailable: 0 });
  });

  test("a shadow engine still denies a check that asks for mode 'enforce', and a feature set to 'enforce'", async () => {
    const entitlements = make({ mode: 'shadow', features: { [ANALYTICS]: { mode: 'enforce' } } });
    await fillTemplates(entitlements);
    const asked = await entitlements.acquire({ customerId: 'basic-near', featureId: TEMPLATES, requestedUsage: 1, mode: 'enforce' });
    const feature = await entitlements.check({ customerId: 'basic-1', featureId: ANALYTICS });
    expect(asked.decision).toMatchObject({ granted: false, enforced: true, accessDeniedReason: 'RequestedUsageExceedingLimit' });
    expect(feature).toMatchObject({ granted: false, enforced: true, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
    expect(entitlements.shadowCounts().wouldDeny).toBe(0);
  });

  test('an outage answers 503 when enforcing (fail closed), as before', async () => {
    const entitlements = make();
    emulator.setFaults({ failureRate: 1 });
    await expect(entitlements.acquire({ customerId: 'basic-1', featureId: TEMPLATES, requestedUsage: 1 })).rejects.toBeInstanceOf(
      EntitlementUnavailableError,
    );
  });
});

describe('where the mode comes from: the check, else the feature, else the engine', () => {
  test.each([
    ['engine', { mode: 'shadow' } as const, undefined],
    ['feature', { features: { [ANALYTICS]: { mode: 'shadow' as const } } }, undefined],
    ['check', {}, 'shadow' as const],
  ])('%s', async (_where, options, mode) => {
    const entitlements = make(options);
    const decision = await entitlements.check({ customerId: 'basic-1', featureId: ANALYTICS, mode });
    expect(decision).toMatchObject({
      granted: true,
      enforced: false,
      accessDeniedReason: null,
      wouldDenyReason: 'NoFeatureEntitlementInSubscription',
    });
    expect(entitlements.shadowCounts()).toEqual({
      decisions: 1,
      wouldDeny: 1,
      byReason: { NoFeatureEntitlementInSubscription: 1 },
      unavailable: 0,
    });
  });
});

describe('a would-be denial is served', () => {
  test("past the limit: nothing is reserved, the units are reported at commit ('report', the default), and 'shadow:denied' carries the reason", async () => {
    const entitlements = make({ mode: 'shadow' });
    const shadowed: Decision[] = [];
    entitlements.on('shadow:denied', (decision) => shadowed.push(decision));
    await fillTemplates(entitlements);
    const first = await entitlements.acquire({ customerId: 'basic-near', featureId: TEMPLATES, requestedUsage: 2 });
    expect(first.decision).toMatchObject({
      granted: true,
      enforced: false,
      metered: true,
      wouldDenyReason: 'RequestedUsageExceedingLimit',
      currentUsage: 40,
      remaining: 0,
    });
    first.commit();
    const second = await entitlements.acquire({ customerId: 'basic-near', featureId: TEMPLATES, requestedUsage: 3 });
    second.settle(1);
    const third = await entitlements.acquire({ customerId: 'basic-near', featureId: TEMPLATES, requestedUsage: 4 });
    third.release();
    await entitlements.flush();
    expect(delivered('basic-near', TEMPLATES)).toBe(5 + 2 + 1);
    expect(shadowed.map((decision) => decision.wouldDenyReason)).toEqual(Array(3).fill('RequestedUsageExceedingLimit'));
    expect(second.decision.currentUsage).toBe(42);
  });

  test("shadowUsage 'skip': the units enforcement would have refused are not reported (the decision is not metered)", async () => {
    const entitlements = make({ mode: 'shadow', shadowUsage: 'skip' });
    await fillTemplates(entitlements);
    const lease = await entitlements.acquire({ customerId: 'basic-near', featureId: TEMPLATES, requestedUsage: 2 });
    expect(lease.decision).toMatchObject({ granted: true, metered: false, wouldDenyReason: 'RequestedUsageExceedingLimit' });
    lease.commit();
    const settled = await entitlements.acquire({ customerId: 'basic-near', featureId: TEMPLATES, requestedUsage: 2 });
    settled.settle(5);
    await entitlements.flush();
    expect(delivered('basic-near', TEMPLATES)).toBe(5);
  });

  test('a grant in shadow mode reserves and reports as enforcement does', async () => {
    const entitlements = make({ mode: 'shadow' });
    const leases = await Promise.all(
      [1, 2, 3].map(() => entitlements.acquire({ customerId: 'basic-near', featureId: TEMPLATES, requestedUsage: 2 })),
    );
    // 5 left: two asks of 2 are granted and hold their units, the third would be denied.
    expect(leases.map((lease) => lease.decision.wouldDenyReason)).toEqual([null, null, 'RequestedUsageExceedingLimit']);
    expect(leases.every((lease) => lease.decision.granted && !lease.decision.enforced)).toBe(true);
    leases[0]?.commit();
    leases[1]?.release();
    leases[2]?.release();
    await entitlements.flush();
    expect(delivered('basic-near', TEMPLATES)).toBe(2);
  });

  test('ENUM values, a plan without the feature, an unknown customer: served, counted by reason, nothing reported', async () => {
    const entitlements = make({ mode: 'shadow' });
    const asks = [
      { customerId: 'basic-1', featureId: MODEL, requestedValues: ['large'] },
      { customerId: 'basic-1', featureId: MODEL, requestedValues: ['small'] },
      { customerId: 'no-plan', featureId: CAMPAIGNS, requestedUsage: 2 },
      { customerId: 'ghost', featureId: CAMPAIGNS, requestedUsage: 2 },
    ];
    const leases = [];
    for (const ask of asks) leases.push(await entitlements.acquire(ask));
    for (const lease of leases) lease.commit();
    expect(leases.map((lease) => [lease.decision.granted, lease.decision.wouldDenyReason, lease.decision.metered])).toEqual([
      [true, 'RequestedValuesMismatch', false],
      [true, null, false],
      [true, 'NoActiveSubscription', false],
      [true, 'CustomerNotFound', false],
    ]);
    await entitlements.flush();
    expect(delivered('no-plan', CAMPAIGNS) + delivered('ghost', CAMPAIGNS)).toBe(0);
    expect(entitlements.shadowCounts().byReason).toEqual({ RequestedValuesMismatch: 1, NoActiveSubscription: 1, CustomerNotFound: 1 });
  });

  test('a soft limit is never a would-be denial: granted past it, as enforcement grants it', async () => {
    const entitlements = make({ mode: 'shadow' });
    for (let i = 0; i < 32; i += 1) {
      const lease = await entitlements.acquire({ customerId: 'basic-2', featureId: SEATS, requestedUsage: 1 });
      expect(lease.decision.wouldDenyReason).toBeNull();
      lease.commit();
    }
    const last = await entitlements.check({ customerId: 'basic-2', featureId: SEATS, requestedUsage: 1 });
    expect(last).toMatchObject({ granted: true, softLimitExceeded: true, wouldDenyReason: null });
    expect(entitlements.shadowCounts().wouldDeny).toBe(0);
  });
});

describe('an outage in shadow mode does not take the route down', () => {
  function recording(): { logger: Logger; warnings: string[] } {
    const warnings: string[] = [];
    return { logger: { warn: (_meta, message) => warnings.push(message), error: () => undefined }, warnings };
  }

  test("no decision (fail closed, nothing cached): served with source 'shadow', counted, emitted, logged once; the units are delivered after recovery", async () => {
    const { logger, warnings } = recording();
    const entitlements = make({ mode: 'shadow', logger });
    const unavailable: Array<[Decision, Error]> = [];
    entitlements.on('shadow:unavailable', (decision, error) => unavailable.push([decision, error]));
    emulator.setFaults({ failureRate: 1 });
    const lease = await entitlements.acquire({ customerId: 'basic-1', featureId: TEMPLATES, requestedUsage: 2 });
    const check = await entitlements.check({ customerId: 'basic-1', featureId: TEMPLATES, requestedUsage: 1 });
    expect(lease.decision).toMatchObject({ granted: true, enforced: false, source: 'shadow', metered: true, wouldDenyReason: null });
    expect(check).toMatchObject({ granted: true, source: 'shadow' });
    lease.commit();
    expect(unavailable).toHaveLength(2);
    expect(unavailable[0]?.[1]).toBeInstanceOf(EntitlementUnavailableError);
    expect(warnings.filter((message) => message.includes('shadow mode serves the request'))).toHaveLength(1);
    expect(entitlements.shadowCounts()).toEqual({ decisions: 2, wouldDeny: 0, byReason: {}, unavailable: 2 });
    emulator.setFaults({ failureRate: 0 });
    await entitlements.flush();
    expect(delivered('basic-1', TEMPLATES)).toBe(2);
  });

  test("with shadowUsage 'skip', a request enforcement would have answered 503 reports nothing", async () => {
    const entitlements = make({ mode: 'shadow', shadowUsage: 'skip' });
    emulator.setFaults({ failureRate: 1 });
    const lease = await entitlements.acquire({ customerId: 'basic-1', featureId: TEMPLATES, requestedUsage: 2 });
    expect(lease.decision).toMatchObject({ granted: true, source: 'shadow', metered: false });
    lease.commit();
    emulator.setFaults({ failureRate: 0 });
    await entitlements.flush();
    expect(delivered('basic-1', TEMPLATES)).toBe(0);
  });

  test('a closed engine still refuses: shadow mode serves decisions, not a shut-down engine', async () => {
    const entitlements = make({ mode: 'shadow' });
    await entitlements.close();
    expect(() => entitlements.check({ customerId: 'basic-1', featureId: ANALYTICS })).toThrow('close');
  });
});

describe('options throw at construction with the fix', () => {
  test.each([
    [{ mode: 'dry-run' }, "dry-run is not a valid value for mode. Please choose 'enforce' (default) or 'shadow'."],
    [{ shadowUsage: 'none' }, "none is not a valid value for shadowUsage. Please choose 'report' (default: the work happened) or 'skip'."],
    [{ features: [] }, 'features must map feature ids to settings'],
    [{ features: { f: 'shadow' } }, `features["f"] must be { mode: 'enforce' | 'shadow' }.`],
    [{ features: { f: { mode: 'off' } } }, `off is not a valid value for features["f"].mode.`],
    [{ features: { f: { mod: 'shadow' } } }, `"mod" is not an option of createEntitlements() features["f"]. Did you mean "mode"?`],
    [{ shadow: true }, '"shadow" is not an option of createEntitlements().'],
  ])('%j', (options, message) => {
    expect(() => createEntitlements({ client, ...(options as object) })).toThrow(message);
  });

  test('a check with a mode that is not one throws a TypeError before any work', () => {
    const entitlements = make();
    expect(() => entitlements.check({ customerId: 'basic-1', featureId: ANALYTICS, mode: 'off' as never })).toThrow(
      "check(): off is not a valid mode. Please choose 'enforce' or 'shadow', or omit it.",
    );
  });
});
