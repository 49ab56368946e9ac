import {
  decide,
  entitlementKey,
  exceeds,
  fallbackDecision,
  needsReservation,
  nextPeriodEnd,
  toCachedEntitlement,
} from '../../src/core/decide';
import { KeyCache } from '../../src/core/key-cache';
import type { CachedEntitlement } from '../../src/core/types';

function cached(overrides: Partial<CachedEntitlement> = {}): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Incremental',
    hasUnlimitedUsage: false,
    usageLimit: 10,
    currentUsage: 4,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: 0,
    ...overrides,
  };
}

const input = { customerId: 'c', featureId: 'f' };

describe('decide', () => {
  test('grants up to the limit and denies past it with the figures', () => {
    expect(decide(input, 6, cached(), 4, 'cache')).toMatchObject({
      granted: true,
      accessDeniedReason: null,
      currentUsage: 4,
      usageLimit: 10,
      metered: true,
    });
    expect(decide(input, 7, cached(), 4, 'cache')).toMatchObject({
      granted: false,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      requestedUsage: 7,
      currentUsage: 4,
      usageLimit: 10,
      source: 'cache',
    });
  });

  test('counts units reserved by other requests through currentUsage', () => {
    expect(decide(input, 1, cached({ currentUsage: 4 }), 10, 'cache').granted).toBe(false);
  });

  test('a cached non-usage denial wins over everything', () => {
    const decision = decide(input, 0, cached({ accessDeniedReason: 'NoActiveSubscription' }), 0, 'upstream');
    expect(decision).toMatchObject({ granted: false, accessDeniedReason: 'NoActiveSubscription', source: 'upstream' });
  });

  test('unlimited numbers are granted and still metered; booleans are never metered', () => {
    expect(decide(input, 1e9, cached({ hasUnlimitedUsage: true, usageLimit: null }), 5, 'cache')).toMatchObject({
      granted: true,
      metered: true,
    });
    const boolean = decide(input, 0, cached({ featureType: 'BOOLEAN', meterType: 'None', usageLimit: null }), 0, 'cache');
    expect(boolean).toMatchObject({ granted: true, metered: false, currentUsage: null });
  });

  test('usage asked of a boolean feature is FeatureTypeMismatch, as Stigg answers; a plain check is granted', () => {
    const flag = cached({ featureType: 'BOOLEAN', meterType: 'None', usageLimit: null });
    expect(decide(input, 1, flag, 0, 'cache')).toMatchObject({ granted: false, accessDeniedReason: 'FeatureTypeMismatch', metered: false });
    expect(decide(input, 0, flag, 0, 'cache')).toMatchObject({ granted: true, accessDeniedReason: null });
  });

  test('a configuration number (meterType None) is granted to a plain check; usage asked of it is a type mismatch', () => {
    const config = cached({ meterType: 'None', usageLimit: 5, currentUsage: 0 });
    expect(decide(input, 0, config, 100, 'cache')).toMatchObject({ granted: true, metered: false, remaining: null, currentUsage: null });
    expect(decide(input, 1, config, 0, 'cache')).toMatchObject({
      granted: false,
      accessDeniedReason: 'FeatureTypeMismatch',
      metered: false,
    });
    expect(needsReservation(config, 1)).toBe(false);
  });

  test('reservations only for limited metered numbers with requested usage', () => {
    expect(needsReservation(cached(), 1)).toBe(true);
    expect(needsReservation(cached(), 0)).toBe(false);
    expect(needsReservation(cached({ hasUnlimitedUsage: true }), 1)).toBe(false);
    expect(needsReservation(cached({ accessDeniedReason: 'Revoked' }), 1)).toBe(false);
  });
});

describe('toCachedEntitlement', () => {
  test('RequestedUsageExceedingLimit at requestedUsage 0 means access at the limit: decided locally', () => {
    const value = toCachedEntitlement(
      {
        isGranted: false,
        accessDeniedReason: 'RequestedUsageExceedingLimit',
        hasUnlimitedUsage: false,
        usageLimit: 3,
        currentUsage: 3,
        usagePeriodEnd: '2030-01-01T00:00:00.000Z',
        resetPeriod: 'MONTH',
        feature: { refId: 'f', featureType: 'NUMBER', meterType: 'Incremental' },
      },
      1234,
      2,
    );
    expect(value).toEqual({
      accessDeniedReason: null,
      featureType: 'NUMBER',
      meterType: 'Incremental',
      hasUnlimitedUsage: false,
      hasSoftLimit: false,
      enumValues: null,
      usageLimit: 3,
      currentUsage: 5,
      usagePeriodEnd: '2030-01-01T00:00:00.000Z',
      usagePeriodEndMs: Date.UTC(2030, 0, 1),
      resetPeriod: 'MONTH',
      fetchedAt: 1234,
    });
  });

  test('keeps other denials, Unknown when Stigg gave none', () => {
    expect(
      toCachedEntitlement({ isGranted: false, accessDeniedReason: 'CustomerNotFound', hasUnlimitedUsage: false }, 0, 0).accessDeniedReason,
    ).toBe('CustomerNotFound');
    expect(toCachedEntitlement({ isGranted: false, hasUnlimitedUsage: false }, 0, 0).accessDeniedReason).toBe('Unknown');
  });
});

describe('nextPeriodEnd', () => {
  const end = Date.UTC(2025, 0, 31, 12);
  test('steps by calendar month, clamping to the last day', () => {
    expect(new Date(nextPeriodEnd(end, 'MONTH', end) as number).toISOString()).toBe('2025-02-28T12:00:00.000Z');
    expect(new Date(nextPeriodEnd(end, 'MONTH', Date.UTC(2025, 2, 30)) as number).toISOString()).toBe('2025-03-31T12:00:00.000Z');
    expect(new Date(nextPeriodEnd(end, 'YEAR', end + 1) as number).toISOString()).toBe('2026-01-31T12:00:00.000Z');
  });

  test('days and weeks skip every missed period at once', () => {
    expect(nextPeriodEnd(end, 'DAY', end + 10.5 * 86_400_000)).toBe(end + 11 * 86_400_000);
    expect(nextPeriodEnd(end, 'WEEK', end)).toBe(end + 7 * 86_400_000);
    expect(nextPeriodEnd(end, null, end + 1)).toBeNull();
  });
});

test('a fallback decision is a grant, with what its usageLimit had granted before', () => {
  expect(fallbackDecision(input, 3, { hasAccess: true, usageLimit: 5 }, 1)).toMatchObject({
    granted: true,
    source: 'fallback',
    metered: true,
    currentUsage: 1,
    usageLimit: 5,
  });
  expect(fallbackDecision(input, 2, undefined, null)).toMatchObject({
    granted: true,
    source: 'fail-open',
    currentUsage: null,
    accessDeniedReason: null,
  });
});

test('fractional usage: nothing above 0 is granted at the limit, even what floating point cannot add', () => {
  expect(4 + 1e-16).toBe(4);
  expect(exceeds(4, 1e-16, 4)).toBe(true);
  expect(exceeds(3.5, 0.5, 4)).toBe(false);
  expect(exceeds(3.5, 0.6, 4)).toBe(true);
  expect(exceeds(4, 0, 4)).toBe(false);
  // Rounding that lands on the limit is not over it; anything really over it is.
  expect(0.1 + 0.2).toBeGreaterThan(0.3);
  expect(exceeds(0.1, 0.2, 0.3)).toBe(false);
  expect(exceeds(0.1, 0.2000001, 0.3)).toBe(true);
  expect(exceeds(0.30000000000000004, 1e-9, 0.3)).toBe(true);
  const cached = toCachedEntitlement(
    {
      isGranted: true,
      hasUnlimitedUsage: false,
      usageLimit: 4,
      currentUsage: 4,
      feature: { refId: 'f', featureType: 'NUMBER', meterType: 'Incremental' },
    },
    0,
    0,
  );
  expect(decide(input, 1e-16, cached, 4, 'cache')).toMatchObject({ granted: false, accessDeniedReason: 'RequestedUsageExceedingLimit' });
});

test('keys of distinct (customer, resource, feature) triples differ, even with : and | in ids', () => {
  const triples: Array<[string, string | undefined, string]> = [
    ['a:b', undefined, 'c'],
    ['a', 'b:', 'c'],
    ['a', 'b', ':c'],
    ['a|b', undefined, 'c'],
    ['a', 'b|', 'c'],
    ['a', undefined, 'b:c'],
  ];
  const keys = new Set(triples.map(([customerId, resourceId, featureId]) => entitlementKey(customerId, resourceId, featureId)));
  expect(keys.size).toBe(triples.length);
  expect(entitlementKey('c', null, 'f')).toBe(entitlementKey('c', undefined, 'f'));
});

test('the key cache hands out the same keys as entitlementKey, and stays bounded', () => {
  const keys = new KeyCache(3);
  for (let round = 0; round < 2; round += 1) {
    for (let i = 0; i < 10; i += 1) {
      for (const [resourceId, featureId] of [
        [undefined, 'f'],
        ['r', 'f'],
        [undefined, 'g'],
        ['r2', 'g'],
      ] as const) {
        expect(keys.get(`c${i}`, resourceId, featureId)).toBe(entitlementKey(`c${i}`, resourceId, featureId));
      }
    }
  }
  expect((keys as unknown as { customers: Map<string, unknown> }).customers.size).toBeLessThanOrEqual(3);
});
