// The rules of src/core/decide.ts that the StrykerJS gauge (npm run test:mutation, issue 25) found
// unpinned by its unit suites: ENUM values, soft limits, the flags and figures a decision carries, the
// reading of Stigg's answer and of its period ends. Each test names the behaviour; a one-token change
// of the line it pins grants a wrong request, denies a right one, or tells the customer a wrong figure.
import {
  decide,
  fallbackDecision,
  nextPeriodEnd,
  parseDate,
  periodEndOf,
  reservationLimitOf,
  reservedDecision,
  toCachedEntitlement,
} from '../../src/core/decide';
import type { CachedEntitlement, UpstreamEntitlement } from '../../src/core/types';

const input = { customerId: 'c', featureId: 'f' };

function metered(overrides: Partial<CachedEntitlement> = {}): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Incremental',
    hasUnlimitedUsage: false,
    usageLimit: 3,
    currentUsage: 0,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: 0,
    ...overrides,
  };
}

const enumFeature = (values: string[] | null = ['eu', 'us']) =>
  metered({ featureType: 'ENUM', meterType: null, usageLimit: null, enumValues: values });
const boolean = () => metered({ featureType: 'BOOLEAN', meterType: null, usageLimit: null });

describe('ENUM features (requestedValues)', () => {
  test('values the customer is entitled to are granted; one value outside them is RequestedValuesMismatch', () => {
    expect(decide({ ...input, requestedValues: ['eu'] }, 0, enumFeature(), 0, 'cache')).toMatchObject({
      granted: true,
      enumValues: ['eu', 'us'],
      requestedValues: ['eu'],
      metered: false,
    });
    expect(decide({ ...input, requestedValues: ['eu', 'apac'] }, 0, enumFeature(), 0, 'cache')).toMatchObject({
      granted: false,
      accessDeniedReason: 'RequestedValuesMismatch',
    });
  });

  test('an ENUM check that asks no values is granted; with no entitled values, any value asked is a mismatch', () => {
    expect(decide(input, 0, enumFeature(), 0, 'cache').granted).toBe(true);
    expect(decide({ ...input, requestedValues: [] }, 0, enumFeature(), 0, 'cache').granted).toBe(true);
    expect(decide({ ...input, requestedValues: ['eu'] }, 0, enumFeature(null), 0, 'cache').accessDeniedReason).toBe(
      'RequestedValuesMismatch',
    );
  });

  test('units asked of an ENUM feature, or values asked of a NUMBER or BOOLEAN one, are FeatureTypeMismatch', () => {
    expect(decide(input, 1, enumFeature(), 0, 'cache').accessDeniedReason).toBe('FeatureTypeMismatch');
    expect(decide({ ...input, requestedValues: ['eu'] }, 0, metered(), 0, 'cache').accessDeniedReason).toBe('FeatureTypeMismatch');
    expect(decide({ ...input, requestedValues: ['eu'] }, 0, boolean(), 0, 'cache').accessDeniedReason).toBe('FeatureTypeMismatch');
    expect(decide(input, 1, boolean(), 0, 'cache').accessDeniedReason).toBe('FeatureTypeMismatch');
    expect(decide(input, 0, boolean(), 0, 'cache')).toMatchObject({
      granted: true,
      accessDeniedReason: null,
      metered: false,
      currentUsage: null,
      remaining: null,
      softLimitExceeded: false,
    });
    // An empty list asks no values: a NUMBER route configured with [] is decided on its units.
    expect(decide({ ...input, requestedValues: [] }, 1, metered(), 0, 'cache').granted).toBe(true);
  });

  test('a decision with no values asked carries an empty requestedValues, never undefined', () => {
    expect(decide(input, 0, boolean(), 0, 'cache').requestedValues).toEqual([]);
  });
});

describe('soft limits', () => {
  const soft = metered({ hasSoftLimit: true, usageLimit: 3 });

  test('a request past a soft limit is granted and flagged softLimitExceeded; one within it is not', () => {
    expect(decide(input, 2, soft, 2, 'cache')).toMatchObject({ granted: true, hasSoftLimit: true, softLimitExceeded: true, remaining: 0 });
    expect(decide(input, 1, soft, 2, 'cache')).toMatchObject({ granted: true, hasSoftLimit: true, softLimitExceeded: false, remaining: 0 });
  });

  test('a hard limit never says softLimitExceeded, and a denied request does not either', () => {
    expect(decide(input, 1, metered(), 3, 'cache')).toMatchObject({ granted: false, hasSoftLimit: false, softLimitExceeded: false });
    expect(decide(input, 5, metered({ hasSoftLimit: false }), 0, 'cache').softLimitExceeded).toBe(false);
    expect(decide(input, 1, metered(), 5, 'cache')).toMatchObject({ granted: false, softLimitExceeded: false });
  });

  test('a reservation is held against the hard limit (0 when Stigg gave none), and against no limit under a soft one', () => {
    expect(reservationLimitOf(metered({ usageLimit: 7 }))).toBe(7);
    expect(reservationLimitOf(metered({ usageLimit: null }))).toBe(0);
    expect(reservationLimitOf(soft)).toBe(Infinity);
    expect(reservationLimitOf(metered({ hasSoftLimit: false, usageLimit: 7 }))).toBe(7);
  });
});

describe('the figures a decision carries', () => {
  test('remaining never goes below 0 when usage is already past the limit', () => {
    expect(decide(input, 1, metered({ usageLimit: 3 }), 5, 'cache')).toMatchObject({ granted: false, currentUsage: 5, remaining: 0 });
  });

  test('an unlimited grant says hasUnlimitedUsage; a limited one does not', () => {
    expect(decide(input, 1, metered({ hasUnlimitedUsage: true, usageLimit: null }), 0, 'cache').hasUnlimitedUsage).toBe(true);
    expect(decide(input, 1, metered(), 0, 'cache').hasUnlimitedUsage).toBe(false);
  });

  test('the usage period end and the resource id pass through; a null resource id becomes undefined', () => {
    const withPeriod = metered({ usagePeriodEnd: '2027-01-01T00:00:00.000Z' });
    expect(decide({ ...input, resourceId: 'site-1' }, 1, withPeriod, 0, 'cache')).toMatchObject({
      resourceId: 'site-1',
      usagePeriodEnd: '2027-01-01T00:00:00.000Z',
    });
    expect(decide({ ...input, resourceId: null as unknown as undefined }, 1, metered(), 0, 'cache').resourceId).toBeUndefined();
    expect(decide(input, 1, metered(), 0, 'cache').usagePeriodEnd).toBeNull();
    expect(decide(input, 0, metered(), 0, 'cache').enumValues).toBeNull();
  });

  test('a reservation the store refused is RequestedUsageExceedingLimit and metered; one it took is granted', () => {
    expect(reservedDecision(input, 2, metered(), false, 2, 'cache')).toMatchObject({
      granted: false,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      metered: true,
      remaining: 1,
    });
    expect(reservedDecision(input, 1, metered(), true, 2, 'cache')).toMatchObject({
      granted: true,
      accessDeniedReason: null,
      metered: true,
    });
  });

  test('a fallback grant of 0 units is not metered; of 1 unit it is, with its source', () => {
    expect(fallbackDecision(input, 0, { hasAccess: true, usageLimit: 5 }, 0)).toMatchObject({ metered: false, source: 'fallback' });
    expect(fallbackDecision(input, 1, { hasAccess: true, usageLimit: 5 }, 2)).toMatchObject({ metered: true, remaining: 2 });
    expect(fallbackDecision(input, 1, undefined, null)).toMatchObject({ metered: true, source: 'fail-open', usageLimit: null });
  });
});

describe("reading Stigg's answer", () => {
  const answer = (fields: Partial<UpstreamEntitlement>): UpstreamEntitlement => ({ isGranted: true, hasUnlimitedUsage: false, ...fields });

  test('an answer without a feature is a NUMBER when it carries a usage figure (limit, unlimited, or current usage alone)', () => {
    expect(toCachedEntitlement(answer({ usageLimit: 5 }), 0, 0).featureType).toBe('NUMBER');
    expect(toCachedEntitlement(answer({ hasUnlimitedUsage: true }), 0, 0)).toMatchObject({
      featureType: 'NUMBER',
      hasUnlimitedUsage: true,
    });
    expect(toCachedEntitlement(answer({ currentUsage: 2 }), 0, 0).featureType).toBe('NUMBER');
  });

  test('an answer without a feature or a usage figure is a BOOLEAN when granted, and of no type when denied', () => {
    expect(toCachedEntitlement(answer({}), 0, 0).featureType).toBe('BOOLEAN');
    expect(toCachedEntitlement(answer({ isGranted: false, accessDeniedReason: 'NoActiveSubscription' }), 0, 0).featureType).toBeNull();
  });

  test("the feature's own type wins over the inference", () => {
    const cached = toCachedEntitlement(answer({ currentUsage: 2, feature: { refId: 'f', featureType: 'ENUM' } }), 0, 0);
    expect(cached.featureType).toBe('ENUM');
  });

  test('a denial about the amount or the values asked (none were) is decided locally; another reason is kept, a missing one is Unknown', () => {
    expect(
      toCachedEntitlement(answer({ isGranted: false, accessDeniedReason: 'RequestedUsageExceedingLimit', usageLimit: 3 }), 0, 0)
        .accessDeniedReason,
    ).toBeNull();
    expect(
      toCachedEntitlement(answer({ isGranted: false, accessDeniedReason: 'RequestedValuesMismatch' }), 0, 0).accessDeniedReason,
    ).toBeNull();
    expect(toCachedEntitlement(answer({ isGranted: false, accessDeniedReason: 'Revoked' }), 0, 0).accessDeniedReason).toBe('Revoked');
    expect(toCachedEntitlement(answer({ isGranted: false }), 0, 0).accessDeniedReason).toBe('Unknown');
  });

  test('soft limit, enum values and the period end are kept; usage not yet reported is added to Stigg’s', () => {
    const cached = toCachedEntitlement(
      answer({
        usageLimit: 3,
        hasSoftLimit: true,
        enumValues: ['a'],
        currentUsage: 2,
        usagePeriodEnd: '2027-01-01T00:00:00Z',
        resetPeriod: 'MONTH',
      }),
      0,
      1,
    );
    expect(cached).toMatchObject({
      hasSoftLimit: true,
      enumValues: ['a'],
      currentUsage: 3,
      usagePeriodEnd: '2027-01-01T00:00:00Z',
      usagePeriodEndMs: Date.parse('2027-01-01T00:00:00Z'),
      resetPeriod: 'MONTH',
    });
    expect(toCachedEntitlement(answer({}), 0, 0)).toMatchObject({
      hasSoftLimit: false,
      enumValues: null,
      usagePeriodEnd: null,
      resetPeriod: null,
    });
  });
});

describe('period ends', () => {
  const END = Date.parse('2026-12-31T00:00:00Z');

  test('an absent or unparsable date is null', () => {
    expect(parseDate(null)).toBeNull();
    expect(parseDate(undefined)).toBeNull();
    expect(parseDate('not a date')).toBeNull();
    expect(parseDate('2026-12-31T00:00:00Z')).toBe(END);
  });

  test('the parsed period end is used when cached; otherwise the string is parsed', () => {
    expect(periodEndOf(metered({ usagePeriodEnd: '2026-12-31T00:00:00Z' }))).toBe(END);
    expect(periodEndOf(metered({ usagePeriodEnd: '2026-12-31T00:00:00Z', usagePeriodEndMs: 42 }))).toBe(42);
    expect(periodEndOf(metered({ usagePeriodEnd: '2026-12-31T00:00:00Z', usagePeriodEndMs: null }))).toBeNull();
  });

  test('no reset period: no next end; a period end still ahead is the next one', () => {
    expect(nextPeriodEnd(END, null, END + 1)).toBeNull();
    expect(nextPeriodEnd(END, 'MONTH', END - 1)).toBe(END);
    expect(nextPeriodEnd(END, 'DAY', END - 1)).toBe(END);
  });

  test('at the very instant a monthly period ends, the next end is a month later (the end is not in the future)', () => {
    expect(nextPeriodEnd(END, 'MONTH', END)).toBe(Date.parse('2027-01-31T00:00:00Z'));
    expect(nextPeriodEnd(END, 'YEAR', END)).toBe(Date.parse('2027-12-31T00:00:00Z'));
    expect(nextPeriodEnd(END, 'WEEK', END)).toBe(END + 7 * 24 * 3_600_000);
    expect(nextPeriodEnd(END, 'DAY', END)).toBe(END + 24 * 3_600_000);
    expect(nextPeriodEnd(END, 'HOUR', END)).toBe(END + 3_600_000);
    // Landing exactly on a later end (31 January) steps past it too.
    expect(nextPeriodEnd(END, 'MONTH', Date.parse('2027-01-31T00:00:00Z'))).toBe(Date.parse('2027-02-28T00:00:00Z'));
  });
});
