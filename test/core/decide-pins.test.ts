// Lines of the decision where a one-token change grants access or denies a paying customer, each
// pinned by a test named for the behaviour (the mutation review of 2026-12-07 found them surviving
// every suite). Each test was run against its mutant and failed.
import { decide, exceeds, isLimited, needsReservation, toCachedEntitlement } from '../../src/core/decide';
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

describe("an answer that does not name its feature's type", () => {
  // Mutant: the NUMBER inference (decide.ts, toCachedEntitlement) → false.
  const answer = (currentUsage: number): UpstreamEntitlement => ({
    isGranted: true,
    accessDeniedReason: null,
    hasUnlimitedUsage: false,
    usageLimit: 3,
    currentUsage,
  });

  test('with a usageLimit is a metered NUMBER: usage under the limit is granted', () => {
    const cached = toCachedEntitlement(answer(2), 0, 0);
    expect(cached.featureType).toBe('NUMBER');
    expect(decide(input, 1, cached, 2, 'upstream')).toMatchObject({ granted: true, metered: true, remaining: 0 });
  });

  test('with a usageLimit is a metered NUMBER: usage past the limit is denied as over the limit, and reserved when granted', () => {
    const cached = toCachedEntitlement(answer(3), 0, 0);
    expect(decide(input, 1, cached, 3, 'upstream')).toMatchObject({ granted: false, accessDeniedReason: 'RequestedUsageExceedingLimit' });
    expect(needsReservation(cached, 1)).toBe(true);
  });
});

describe('unlimited usage', () => {
  // Mutant: `&& !cached.hasUnlimitedUsage` removed from limitOf / isLimited.
  test('an unlimited customer whose answer also carries a usageLimit is granted past that number, with nothing reserved', () => {
    const cached = metered({ hasUnlimitedUsage: true, usageLimit: 5, currentUsage: 10 });
    expect(decide(input, 1, cached, 10, 'cache')).toMatchObject({ granted: true, remaining: null, usageLimit: 5 });
    expect(isLimited(cached)).toBe(false);
  });
});

describe('the limit comparison', () => {
  // Mutant: `used + requested > limit` → `>=` in exceeds().
  test('a 0-unit check of a usageLimit 0 feature is granted (it asks for nothing)', () => {
    expect(exceeds(0, 0, 0)).toBe(false);
    expect(decide(input, 0, metered({ usageLimit: 0 }), 0, 'cache')).toMatchObject({ granted: true, remaining: 0 });
  });

  test('a request that lands exactly on the limit is granted; one unit more is not', () => {
    expect(decide(input, 3, metered(), 0, 'cache').granted).toBe(true);
    expect(decide(input, 4, metered(), 0, 'cache').granted).toBe(false);
  });

  test('a 0-unit check is not flagged metered (it reserves and reports nothing)', () => {
    expect(decide(input, 0, metered(), 1, 'cache').metered).toBe(false);
    expect(decide(input, 1, metered(), 1, 'cache').metered).toBe(true);
  });
});
