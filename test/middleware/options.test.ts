import { FakeEntitlements } from './fake';
import { ex, ko } from './harness';
import * as ho from '../../src/middleware/hono';
import { deniedProblem, errorProblem, invalidUsageProblem, retryAfterHeader } from '../../src/middleware/problem';
import { EntitlementDeniedError, statusForReason } from '../../src/core/errors';
import type { AccessDeniedReason, Decision } from '../../src/core/types';
import { MAX_ID_LENGTH } from '../../src/core/input';

const entitlements = new FakeEntitlements();
const customer = () => 'c1';

describe.each([
  ['stigg-gate/express', ex, 'req'],
  ['stigg-gate/koa', ko, 'ctx'],
  ['stigg-gate/hono', ho, 'c'],
] as const)('%s: misuse is caught at construction with fix-it TypeErrors', (module, mod, arg) => {
  const stigg = mod.stigg as (o: unknown) => unknown;
  const requireFeature = mod.requireFeature as (...a: unknown[]) => unknown;

  test('stigg() without entitlements or customer', () => {
    expect(() => stigg(undefined)).toThrow(
      new TypeError(`stigg() needs an options object: stigg({ entitlements, customer: (${arg}) => customerId }).`),
    );
    expect(() => stigg({ customer })).toThrow(
      new TypeError(
        "stigg() needs the entitlements option: pass the instance returned by createEntitlements({ client }) from 'stigg-gate'.",
      ),
    );
    expect(() => stigg({ entitlements: {}, customer })).toThrow(/needs the entitlements option/);
    expect(() => stigg({ entitlements })).toThrow(TypeError);
    expect(() => stigg({ entitlements })).toThrow(`customer: (${arg}) => `);
    expect(() => stigg({ entitlements, customer: 'user.id' })).toThrow(/needs the customer option/);
  });

  test('stigg() rejects bad optional values, naming the option', () => {
    expect(() => stigg({ entitlements, customer, resource: 'site' })).toThrow('"site" is not a valid value for resource in stigg().');
    expect(() => stigg({ entitlements, customer, onDenied: true })).toThrow(/not a valid value for onDenied/);
    expect(() => stigg({ entitlements, customer, reportWhen: 300 })).toThrow(/300 is not a valid value for reportWhen/);
    expect(() => stigg({ entitlements, customer, logger: {} })).toThrow(
      /not a valid value for logger in stigg\(\)\. Pass a structured logger with warn\(meta, message\)/,
    );
    expect(() => stigg({ entitlements, customer, statusMapping: { NoSuchReason: 402 } })).toThrow(
      /"NoSuchReason" in statusMapping of stigg\(\) is not an AccessDeniedReason/,
    );
    expect(() => stigg({ entitlements, customer, statusMapping: { Revoked: 200 } })).toThrow(
      '200 is not a valid status for Revoked in statusMapping of stigg(). Please choose an integer from 400 to 599.',
    );
    expect(() => stigg({ entitlements, customer, statusMapping: [] })).toThrow(/not a valid value for statusMapping/);
  });

  test('stigg used without the call', () => {
    const fakeRequest = { method: 'GET', headers: {}, url: '/' };
    expect(() => stigg(fakeRequest)).toThrow(
      `stigg was used as a middleware without being called. Write app.use(stigg({ entitlements, customer })) instead of app.use(stigg) (${module}).`,
    );
  });

  test('requireFeature: empty, missing or non-string feature ids', () => {
    for (const id of ['', '   ', undefined, 42]) {
      expect(() => requireFeature(id)).toThrow(
        /is not a valid feature id for requireFeature\(\)\. Pass the feature's id as it appears in Stigg/,
      );
    }
  });

  test('requireFeature: feature ids core would refuse on every request are refused at construction', () => {
    expect(() => requireFeature(' feature-01-templates')).toThrow(
      'The feature id given to requireFeature() must not start or end with whitespace.',
    );
    expect(() => requireFeature('f'.repeat(MAX_ID_LENGTH + 1))).toThrow(`must be at most ${MAX_ID_LENGTH} characters`);
    expect(() => requireFeature('feature\u0000x')).toThrow('must not contain control characters');
  });

  test('requireFeature used without the call', () => {
    expect(() => requireFeature({ method: 'GET', headers: {} }, {}, () => {})).toThrow(
      /^requireFeature was used as a middleware without being called/,
    );
    expect(() => requireFeature({ req: {}, request: {}, app: {} }, () => {})).toThrow(
      /^requireFeature was used as a middleware without being called/,
    );
  });

  test.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 1e308, Number.MAX_SAFE_INTEGER + 2, '2', null])(
    'requireFeature rejects the constant usage %p',
    (usage) => {
      expect(() => requireFeature('feature-01-templates', usage)).toThrow(
        /is not a valid requestedUsage for requireFeature\('feature-01-templates'\)/,
      );
    },
  );

  test('requireFeature with options in the usage position explains the fix', () => {
    expect(() => requireFeature('f', { statusMapping: {} })).toThrow(
      "To pass options without a usage write requireFeature('f', undefined, options).",
    );
  });

  test('requireFeature accepts 0, a number, a function, and validates its options', () => {
    expect(typeof requireFeature('f', 0)).toBe('function');
    expect(typeof requireFeature('f', 2.5)).toBe('function');
    expect(typeof requireFeature('f', () => 1, { reportWhen: (s: number) => s < 300 })).toBe('function');
    expect(() => requireFeature('f', 1, 'fast')).toThrow(/is not a valid options object for requireFeature\('f'\)/);
    expect(() => requireFeature('f', 1, { statusMapping: { Revoked: 'nope' } })).toThrow(/"nope" is not a valid status for Revoked/);
  });

  test('entitlementErrorHandler validates its options', () => {
    expect(() => (mod.entitlementErrorHandler as (o: unknown) => unknown)('x')).toThrow(/takes an optional options object/);
    expect(() => mod.entitlementErrorHandler({ statusMapping: { Unknown: 99 } })).toThrow(/99 is not a valid status for Unknown/);
  });

  test('rateLimitHeaders takes a boolean, on stigg() and per route', () => {
    expect(() => stigg({ entitlements, customer, rateLimitHeaders: 'yes' })).toThrow(
      /"yes" is not a valid value for rateLimitHeaders in stigg\(\)\. Pass true or false\./,
    );
    expect(() => requireFeature('f', 1, { rateLimitHeaders: 1 })).toThrow(/1 is not a valid value for rateLimitHeaders/);
    expect(() => requireFeature('f', 1, { rateLimitHeaders: false })).not.toThrow();
  });

  test('unknown option keys throw with a did-you-mean (13.11)', () => {
    expect(() => requireFeature('f', 1, { resourceId: () => 's1' })).toThrow(
      new TypeError(
        `"resourceId" is not an option of requireFeature('f'). Did you mean "resource"? Known options: resource, requestedValues, statusMapping, onDenied, reportWhen, onAbort, mode, rateLimitHeaders.`,
      ),
    );
    expect(() => stigg({ entitlements, customer, statusMap: {} })).toThrow(
      '"statusMap" is not an option of stigg(). Did you mean "statusMapping"?',
    );
    expect(() => stigg({ entitlements, customerId: customer })).toThrow(
      '"customerId" is not an option of stigg(). Did you mean "customer"?',
    );
    expect(() => mod.entitlementErrorHandler({ statusMaping: {} } as never)).toThrow(
      '"statusMaping" is not an option of entitlementErrorHandler(). Did you mean "statusMapping"?',
    );
  });

  test("the caller's options objects are never mutated", () => {
    const statusMapping = Object.freeze({ Revoked: 410 });
    const options = Object.freeze({ entitlements, customer, statusMapping });
    const route = Object.freeze({ statusMapping, reportWhen: (s: number) => s < 300 });
    expect(() => stigg(options)).not.toThrow();
    expect(() => requireFeature('f', 1, route)).not.toThrow();
    expect(options).toEqual({ entitlements, customer, statusMapping: { Revoked: 410 } });
    expect(Object.keys(route)).toEqual(['statusMapping', 'reportWhen']);
  });
});

describe('problem+json bodies and the status mapping', () => {
  function decision(reason: AccessDeniedReason | null, extra: Partial<Decision> = {}): Decision {
    return {
      granted: false,
      customerId: 'c1',
      resourceId: undefined,
      featureId: 'f',
      accessDeniedReason: reason,
      requestedUsage: 2,
      currentUsage: 5,
      usageLimit: 6,
      remaining: null,
      hasUnlimitedUsage: false,
      hasSoftLimit: false,
      softLimitExceeded: false,
      requestedValues: [],
      enumValues: null,
      usagePeriodEnd: null,
      metered: false,
      source: 'cache',
      enforced: true,
      wouldDenyReason: null,
      ...extra,
    };
  }
  test.each([
    ['RequestedUsageExceedingLimit', 402, 'Usage limit reached'],
    ['BudgetExceeded', 402, 'Budget exceeded'],
    ['InsufficientCredits', 402, 'Insufficient credits'],
    ['NoActiveSubscription', 402, 'No active subscription'],
    ['NoFeatureEntitlementInSubscription', 402, 'Feature not included in the subscription'],
    ['CustomerNotFound', 403, 'Customer not found'],
    ['CustomerIsArchived', 403, 'Customer is archived'],
    ['CustomerResourceNotFound', 403, 'Resource not found for this customer'],
    ['Revoked', 403, 'Entitlement revoked'],
    ['RequestedValuesMismatch', 403, 'Requested values mismatch'],
    ['FeatureNotFound', 403, 'Feature not found'],
    ['FeatureTypeMismatch', 403, 'Feature type mismatch'],
    ['Unknown', 403, 'Access denied'],
  ] as const)('%s → %d', (reason, status, title) => {
    expect(statusForReason(reason)).toBe(status);
    const body = deniedProblem(decision(reason), statusForReason(reason));
    expect(body).toMatchObject({
      type: expect.stringMatching(/^urn:stigg-gate:problem:[a-z-]+$/),
      title,
      status,
      accessDeniedReason: reason,
      featureId: 'f',
      requestedUsage: 2,
      currentUsage: 5,
      usageLimit: 6,
    });
    expect(body.usagePeriodEnd).toBeNull();
    expect(Object.values(body)).not.toContain(undefined);
    expect(body.detail).toContain('"f"');
  });

  test('a denial without a reason renders as Unknown; the period end appears when known', () => {
    const body = deniedProblem(decision(null, { usagePeriodEnd: '2030-01-01T00:00:00.000Z' }), 403);
    expect(body).toMatchObject({
      accessDeniedReason: 'Unknown',
      type: 'urn:stigg-gate:problem:unknown',
      usagePeriodEnd: '2030-01-01T00:00:00.000Z',
    });
    expect(deniedProblem(decision('RequestedUsageExceedingLimit', { usagePeriodEnd: '2030-01-01T00:00:00.000Z' }), 402).detail).toBe(
      'Requesting 2 more of feature "f" would exceed the limit of 6 (5 used); usage resets at 2030-01-01T00:00:00.000Z.',
    );
  });

  test('thrown denials: the first mapping naming the reason wins, else the error status', () => {
    const error = new EntitlementDeniedError(decision('BudgetExceeded'));
    expect(errorProblem(error).problem.status).toBe(402);
    expect(errorProblem(error, undefined, { BudgetExceeded: 429 }).problem.status).toBe(429);
    expect(errorProblem(error, { BudgetExceeded: 403 }, { BudgetExceeded: 429 }).problem.status).toBe(403);
  });

  test('helpers: Retry-After is whole seconds >= 1; invalid usage describes without echoing strings', () => {
    expect([retryAfterHeader(0), retryAfterHeader(2.1), retryAfterHeader(Number.NaN)]).toEqual(['1', '3', '1']);
    expect(invalidUsageProblem('f', 'DROP TABLE').detail).toBe(
      'The requested usage of feature "f" must be a number >= 0 and at most 9007199254740991; the request gave a value of type string.',
    );
  });
});
