import * as ex from '../../src/middleware/express';
import * as fa from '../../src/middleware/fastify';
import * as ho from '../../src/middleware/hono';
import * as ko from '../../src/middleware/koa';

// Every adapter exports the same set (issue 24): its setup, requireFeature, entitlementErrorHandler,
// stiggWebhook, the errors it renders (and their base, StiggGateError) and the problem constants. Exact, so that an export added to one
// adapter and not the others fails here.

const COMMON = [
  'EntitlementDeniedError',
  'EntitlementUnavailableError',
  'InvalidIdError',
  'PROBLEM_CONTENT_TYPE',
  'PROBLEM_TYPE_PREFIX',
  'StiggGateError',
  'entitlementErrorHandler',
  'requireFeature',
  'stiggWebhook',
];

test.each([
  ['stigg-gate/express', ex, 'stigg'],
  ['stigg-gate/koa', ko, 'stigg'],
  ['stigg-gate/fastify', fa, 'stiggPlugin'],
  ['stigg-gate/hono', ho, 'stigg'],
])('%s exports its setup and the common set, nothing else', (_entry, mod, setup) => {
  expect(Object.keys(mod).sort()).toEqual([...COMMON, setup].sort());
  for (const name of [setup, 'requireFeature', 'entitlementErrorHandler', 'stiggWebhook']) {
    expect(typeof (mod as Record<string, unknown>)[name]).toBe('function');
  }
});
