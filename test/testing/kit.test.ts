import { EntitlementUnavailableError } from '../../src/core/errors';
import { createTestEntitlements, UsageAssertionError } from '../../src/testing';

const START = Date.parse('2026-01-15T00:00:00Z');

function kit() {
  return createTestEntitlements({
    start: START,
    customers: {
      'cust-basic': {
        'feature-01-templates': { limit: 3, used: 1 },
        'feature-04-analytics': false,
        'feature-07-seats': { limit: 5, soft: true },
        'feature-09-model': { values: ['small'] },
        'feature-10-api': 'unlimited',
        'feature-11-calls': { limit: 2, reset: 'MONTH' },
        'feature-12-export': true,
        'feature-13-legacy': { denied: 'Revoked' },
      },
      'cust-gone': 'archived',
      'cust-free': 'no-subscription',
    },
    resources: { 'cust-basic': { 'site-1': { 'feature-05-domains': { limit: 1 } } } },
  });
}

const basic = (featureId: string, extra: object = {}) => ({ customerId: 'cust-basic', featureId, ...extra });

describe('createTestEntitlements: fixtures in the app’s words, decided by the production engine', () => {
  it.each([
    ['a limit with room', basic('feature-01-templates', { requestedUsage: 2 }), true, null],
    ['a limit exceeded', basic('feature-01-templates', { requestedUsage: 3 }), false, 'RequestedUsageExceedingLimit'],
    ['false: not in the plan', basic('feature-04-analytics'), false, 'NoFeatureEntitlementInSubscription'],
    ['a soft limit past its limit', basic('feature-07-seats', { requestedUsage: 9 }), true, null],
    ['an enum value entitled', basic('feature-09-model', { requestedValues: ['small'] }), true, null],
    ['an enum value not entitled', basic('feature-09-model', { requestedValues: ['large'] }), false, 'RequestedValuesMismatch'],
    ['unlimited', basic('feature-10-api', { requestedUsage: 1e6 }), true, null],
    ['true: on', basic('feature-12-export'), true, null],
    ['usage asked of an on/off feature', basic('feature-12-export', { requestedUsage: 1 }), false, 'FeatureTypeMismatch'],
    ['denied with a reason', basic('feature-13-legacy'), false, 'Revoked'],
    ['a feature no fixture names', basic('feature-99-ghost'), false, 'FeatureNotFound'],
    ['an unknown customer', { customerId: 'cust-nobody', featureId: 'feature-12-export' }, false, 'CustomerNotFound'],
    ['an archived customer', { customerId: 'cust-gone', featureId: 'feature-12-export' }, false, 'CustomerIsArchived'],
    ['a customer without a subscription', { customerId: 'cust-free', featureId: 'feature-12-export' }, false, 'NoActiveSubscription'],
    ['a resource-scoped limit', basic('feature-05-domains', { resourceId: 'site-1', requestedUsage: 1 }), true, null],
    ['an unknown resource', basic('feature-05-domains', { resourceId: 'site-9' }), false, 'CustomerResourceNotFound'],
  ])('%s', async (_name, input, granted, reason) => {
    const stigg = kit();
    const decision = await stigg.check(input);
    expect({ granted: decision.granted, reason: decision.accessDeniedReason }).toEqual({ granted, reason });
    await stigg.close();
  });

  it('is synchronous once a customer is cached, as the engine is', async () => {
    const stigg = kit();
    await stigg.check(basic('feature-12-export'));
    const second = stigg.check(basic('feature-01-templates'));
    expect(second).not.toBeInstanceOf(Promise);
    await stigg.close();
  });

  it('reserves, commits and records the report; a released lease reports nothing', async () => {
    const stigg = kit();
    const lease = await stigg.acquire(basic('feature-01-templates', { requestedUsage: 2 }));
    expect(lease.decision).toMatchObject({ granted: true, currentUsage: 1, remaining: 0 });
    const denied = await stigg.acquire(basic('feature-01-templates', { requestedUsage: 1 }));
    expect(denied.decision).toMatchObject({ granted: false, accessDeniedReason: 'RequestedUsageExceedingLimit', currentUsage: 3 });
    lease.commit();
    stigg.expectReported({ customerId: 'cust-basic', featureId: 'feature-01-templates', value: 2 });
    const other = await stigg.acquire(basic('feature-07-seats', { requestedUsage: 1 }));
    other.release();
    expect(stigg.reported({ featureId: 'feature-07-seats' })).toEqual([]);
    expect(stigg.decisions().map((d) => d.granted)).toEqual([true, false, true]);
    expect(stigg.usage('cust-basic', 'feature-01-templates')).toBe(1);
    await stigg.flush();
    expect(stigg.usage('cust-basic', 'feature-01-templates')).toBe(3);
    expect(stigg.delivered()).toEqual([
      { customerId: 'cust-basic', featureId: 'feature-01-templates', resourceId: undefined, value: 2, updateBehavior: 'DELTA' },
    ]);
    await stigg.close();
  });

  it('expectReported throws a readable AssertionError listing what was reported', async () => {
    const stigg = kit();
    await stigg.report({ customerId: 'cust-basic', featureId: 'feature-10-api', value: 2 });
    let thrown: unknown;
    try {
      stigg.expectReported({ customerId: 'cust-basic', featureId: 'feature-10-api', value: 3 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageAssertionError);
    expect((thrown as Error).name).toBe('AssertionError');
    expect((thrown as Error).message).toBe(
      'Expected the usage reported for "feature-10-api" of "cust-basic" to total 3, but it totals 2.\n\nReported so far:\n  "cust-basic" "feature-10-api": +2',
    );
    expect(() => stigg.expectReported({ customerId: 'cust-basic', featureId: 'feature-01-templates' })).toThrow(
      'Expected usage of "feature-01-templates" of "cust-basic" to be reported, but none was.',
    );
    expect(() => stigg.expectReported({ customerId: 'cust-basic', featureId: 'feature-10-api', valu: 2 } as never)).toThrow(
      '"valu" is not an option of expectReported(). Did you mean "value"?',
    );
    await stigg.close();
  });

  it('overrides stack, and each remover takes its own layer away', async () => {
    const stigg = kit();
    const templates = basic('feature-01-templates', { requestedUsage: 2 });
    expect((await stigg.check(templates)).granted).toBe(true);
    const exhausted = stigg.override({ 'cust-basic': { 'feature-01-templates': { limit: 3, used: 3 } } });
    expect((await stigg.check(templates)).accessDeniedReason).toBe('RequestedUsageExceedingLimit');
    const upgraded = stigg.override({ 'cust-basic': { 'feature-01-templates': { limit: 100 } } });
    expect(await stigg.check(templates)).toMatchObject({ granted: true, usageLimit: 100, currentUsage: 3 });
    exhausted();
    expect(await stigg.check(templates)).toMatchObject({ granted: true, usageLimit: 100, currentUsage: 1 });
    upgraded();
    upgraded();
    expect(await stigg.check(templates)).toMatchObject({ granted: true, usageLimit: 3, currentUsage: 1 });
    const gone = stigg.override({ 'cust-basic': 'archived' });
    expect((await stigg.check(templates)).accessDeniedReason).toBe('CustomerIsArchived');
    gone();
    expect((await stigg.check(basic('feature-04-analytics'))).granted).toBe(false);
    await stigg.close();
  });

  it('moves the clock: a usage period ends and the limit is whole again', async () => {
    const stigg = kit();
    const calls = basic('feature-11-calls', { requestedUsage: 2 });
    const lease = await stigg.acquire(calls);
    expect(lease.decision.usagePeriodEnd).toBe('2026-02-15T00:00:00.000Z');
    lease.commit();
    expect((await stigg.check(calls)).accessDeniedReason).toBe('RequestedUsageExceedingLimit');
    await stigg.clock.advance(31 * 24 * 60 * 60 * 1000);
    expect(await stigg.check(calls)).toMatchObject({ granted: true, currentUsage: 0, usagePeriodEnd: '2026-03-15T00:00:00.000Z' });
    await stigg.close();
  });

  it.each(['network', 'timeout', 'auth'] as const)(
    'failNext(%s): the next decision cannot be made (503), then all is well',
    async (kind) => {
      const stigg = kit();
      await stigg.check(basic('feature-12-export'));
      stigg.failNext(kind);
      await expect(Promise.resolve().then(() => stigg.check(basic('feature-12-export')))).rejects.toBeInstanceOf(
        EntitlementUnavailableError,
      );
      expect((await stigg.check(basic('feature-12-export'))).granted).toBe(true);
      await stigg.close();
    },
  );

  it('a fallback answers when "Stigg" fails, as in production', async () => {
    const stigg = createTestEntitlements({ customers: {}, fallback: { 'feature-12-export': { hasAccess: true } } });
    stigg.failNext('network');
    expect(await stigg.check({ customerId: 'c', featureId: 'feature-12-export' })).toMatchObject({ granted: true, source: 'fallback' });
    await stigg.close();
  });

  it.each([
    [{}, 'createTestEntitlements() needs customers'],
    [{ customers: {}, custmers: {} }, '"custmers" is not an option of createTestEntitlements(). Did you mean "customers"?'],
    [{ customers: { c: { f: { limit: -1 } } } }, '-1 is not a valid value for createTestEntitlements() customers["c"]["f"].limit'],
    [
      { customers: { c: { f: { limit: 1, soft: 'yes' } } } },
      '"yes" is not a valid value for createTestEntitlements() customers["c"]["f"].soft',
    ],
    [{ customers: { c: { f: { limt: 1 } } } }, 'Did you mean "limit"?'],
    [
      { customers: { c: { f: 3 } } },
      '3 is not a valid value for createTestEntitlements() customers["c"]["f"]. Please choose true, false, \'unlimited\'',
    ],
    [{ customers: { c: { f: { values: 'small' } } } }, 'customers["c"]["f"].values must be an array of strings'],
    [
      { customers: { c: { f: { limit: 1, reset: 'MONTHLY' } } } },
      '"MONTHLY" is not a valid value for createTestEntitlements() customers["c"]["f"].reset',
    ],
    [{ customers: {}, start: 'soon' }, '"soon" is not a valid value for createTestEntitlements() start'],
  ])('refuses bad options with a fix-it: %j', (options, message) => {
    expect(() => createTestEntitlements(options as never)).toThrow(message);
  });

  it('refuses a failure kind it does not know', async () => {
    const stigg = kit();
    expect(() => stigg.failNext('dns' as never)).toThrow(
      `"dns" is not a valid value for failNext(). Please choose 'network', 'timeout', 'auth'.`,
    );
    await stigg.close();
  });
});
