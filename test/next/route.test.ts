import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { entitlementErrorHandler, requireFeature, stigg } from '../../src/middleware/next';
import { EntitlementDeniedError } from '../../src/core/errors';
import { afterResponse } from '../../src/middleware/next/after';

// stigg-gate/next's misuse fails where it is written, with the fix (a route file is evaluated when
// Next loads it, so a TypeError there shows at the first compile, not at the first paying request).

const entitlements = createEntitlements({ client: new StiggClient({ apiKey: 'k', apiUrl: 'http://127.0.0.1:9/graphql' }) });
afterAll(() => entitlements.close());
const route = stigg({ entitlements, customer: () => 'c' });
const handler = () => Response.json({ ok: true });

test('route() needs the handler last and requireFeature() results before it', () => {
  expect(() => route(requireFeature('f', 1) as never)).toThrow(/The last argument of a stigg-gate\/next route must be the route handler/);
  expect(() => (route as (...args: unknown[]) => unknown)(requireFeature, handler)).toThrow(
    /Argument 1 of a stigg-gate\/next route is not requireFeature\(…\)'s result; pass requireFeature\(featureId, usage\?, options\?\)\./,
  );
  expect(() => (route as (...args: unknown[]) => unknown)({ featureId: 'f' }, handler)).toThrow(/Argument 1 of a stigg-gate\/next route/);
  expect(typeof route(handler)).toBe('function');
});

test('stigg() and requireFeature() check their options at the call', () => {
  expect(() => stigg({ entitlements, customer: 'user.id' as never })).toThrow(/customer/);
  expect(() => stigg({ entitlements, customer: () => 'c', onDenid: () => undefined } as never)).toThrow(/Did you mean "onDenied"/);
  expect(() => requireFeature('f', -1)).toThrow(/requestedUsage/);
  expect(() => requireFeature('f', 1, { rateLimitHeaders: 'yes' as never })).toThrow(/rateLimitHeaders/);
});

test("entitlementErrorHandler() renders stigg-gate's errors as problem+json and leaves the others", async () => {
  const render = entitlementErrorHandler();
  expect(render(new Error('boom'))).toBeUndefined();
  const denied = new EntitlementDeniedError({
    customerId: 'c',
    featureId: 'feature-04-analytics',
    granted: false,
    accessDeniedReason: 'NoFeatureEntitlementInSubscription',
  } as never);
  const response = render(denied);
  expect(response?.status).toBe(402);
  expect(response?.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  expect(await response?.json()).toMatchObject({
    featureId: 'feature-04-analytics',
    accessDeniedReason: 'NoFeatureEntitlementInSubscription',
  });
  expect(() => entitlementErrorHandler('x' as never)).toThrow(/entitlementErrorHandler\(\) takes an optional options object/);
});

test("usage goes to Next's after(), and no body is read out for Node (it reads or cancels every body itself)", () => {
  const runtime = afterResponse();
  expect(runtime?.dropsUnreadBodies).toBe(false);
  // Outside a request scope after() throws; the hand-over is then skipped, never thrown at the route.
  expect(() => runtime?.waitUntil(Promise.resolve())).not.toThrow();
});
