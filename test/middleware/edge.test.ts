import request from 'supertest';
import { EntitlementUnavailableError } from '../../src/core/errors';
import type { CheckInput, Logger } from '../../src/core/types';
import { PROBLEM_TYPE_PREFIX } from '../../src/middleware/problem';
import { FakeEntitlements } from './fake';
import * as fa from '../../src/middleware/fastify';
import * as ho from '../../src/middleware/hono';
import { CUSTOMER_HEADER, adapters, ex, ko, type BuildOptions } from './harness';

const modules = { express: ex, koa: ko, fastify: fa, hono: ho } as const;
/** Express's next(err) and Fastify's done(err) are callbacks called with the error; Koa and Hono throw. */
const passesErrorsToCallback = (kind: keyof typeof modules) => kind === 'express' || kind === 'fastify';
const missingStiggMessages: Record<keyof typeof modules, string> = {
  express: "Add app.use(stigg({ entitlements, customer })) from 'stigg-gate/express' before the gated routes.",
  koa: "Add app.use(stigg({ entitlements, customer })) from 'stigg-gate/koa' before the gated routes.",
  fastify: "Register it first: app.register(stiggPlugin, { entitlements, customer }) from 'stigg-gate/fastify', in this scope or a parent.",
  hono: "Add app.use(stigg({ entitlements, customer })) from 'stigg-gate/hono' before the gated routes.",
};

// Adapter edge cases that need an Entitlements answering in a chosen way (sync, async, throwing).
// Everything about real decisions runs against the core and the emulator in table.test.ts.

function recordingLogger(): Logger & { warnings: unknown[][]; errorsLogged: unknown[][] } {
  const warnings: unknown[][] = [];
  const errorsLogged: unknown[][] = [];
  return {
    warnings,
    errorsLogged,
    warn: (...args: unknown[]) => void warnings.push(args),
    error: (...args: unknown[]) => void errorsLogged.push(args),
  };
}

// Middleware-chain edge cases (next() once, mounted without stigg() or without the call): a Next route is
// a wrapped handler, not a chain; its own misuse is in test/next/route.test.ts. Nest has no middleware
// to misuse (a guard and an interceptor the module registers): test/nest/edge.test.ts.
const chains = adapters.filter(
  (adapter): adapter is (typeof adapters)[number] & { kind: keyof typeof modules } => adapter.kind !== 'next' && adapter.kind !== 'nest',
);

describe.each(chains)('$name: adapter edge cases', (adapter) => {
  let fake: FakeEntitlements;
  beforeEach(() => {
    fake = new FakeEntitlements();
  });

  function build(overrides: Partial<BuildOptions> = {}) {
    return adapter.build({
      entitlements: fake,
      routes: [
        { method: 'post', path: '/metered', gates: [{ featureId: 'f-metered', usage: 2 }] },
        { method: 'get', path: '/bool', gates: [{ featureId: 'f-bool' }] },
        { method: 'get', path: '/free', gates: [] },
        {
          method: 'post',
          path: '/two',
          gates: [
            { featureId: 'f-a', usage: 1 },
            { featureId: 'f-b', usage: (v: any) => v.body.n },
          ],
        },
      ],
      ...overrides,
    });
  }

  test('a synchronous grant runs the handler, exposes the decision, and commits after 2xx', async () => {
    const app = build();
    const res = await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(200);
    expect(res.body.entitlement).toMatchObject({ granted: true, featureId: 'f-metered', requestedUsage: 2 });
    expect(res.body.entitlements['f-metered'].featureId).toBe('f-metered');
    expect(fake.calls).toEqual([{ customerId: 'c1', featureId: 'f-metered', resourceId: undefined, requestedUsage: 2 }]);
    expect(fake.settled).toEqual([{ featureId: 'f-metered', how: 'commit' }]);
  });

  test('an asynchronous grant behaves the same', async () => {
    fake.answer = (input) => Promise.resolve(fake.lease(input, true));
    const app = build();
    await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(200);
    expect(app.runs.get('/metered')).toBe(1);
    expect(fake.settled).toEqual([{ featureId: 'f-metered', how: 'commit' }]);
  });

  test.each([
    ['rejects', (error: Error) => () => Promise.reject(error)],
    [
      'throws',
      (error: Error) => () => {
        throw error;
      },
    ],
  ])('an acquire that %s with an unexpected error reaches the app error handler, not a denial', async (_how, make) => {
    const error = new Error('store exploded');
    fake.answer = make(error);
    const app = build();
    const res = await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(500);
    expect(res.body).toEqual({ error: 'store exploded' });
    expect(app.errors).toEqual([error]);
    expect(app.runs.get('/metered')).toBeUndefined();
  });

  test.each([
    [
      'synchronously',
      (e: Error) => () => {
        throw e;
      },
    ],
    ['asynchronously', (e: Error) => () => Promise.reject(e)],
  ])('EntitlementUnavailableError thrown %s answers 503 problem+json with Retry-After', async (_how, make) => {
    fake.answer = make(new EntitlementUnavailableError('f-metered', 7.2));
    const app = build();
    const res = await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(503);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['retry-after']).toBe('8');
    expect(res.body).toMatchObject({ status: 503, featureId: 'f-metered', type: `${PROBLEM_TYPE_PREFIX}entitlements-unavailable` });
    expect(app.runs.get('/metered')).toBeUndefined();
  });

  test.each([
    [
      'throws',
      () => {
        throw new Error('auth store down');
      },
      'auth store down',
    ],
    ['rejects', () => Promise.reject(new Error('auth store down')), 'auth store down'],
    ['rejects with undefined', () => Promise.reject(undefined), 'A stigg-gate resolver failed with undefined'],
    [
      'returns a number',
      () => 42,
      'The customer resolver passed to stigg-gate returned 42; it must return a string id, or undefined when there is none.',
    ],
  ])('a customer resolver that %s fails the request (500) without running the handler', async (_how, customer, message) => {
    const app = build({ stigg: { customer } });
    const res = await request(app.server).post('/metered').expect(500);
    expect(res.body).toEqual({ error: message });
    expect(app.runs.get('/metered')).toBeUndefined();
    expect(fake.calls).toHaveLength(0);
  });

  test('the customer resolver runs lazily: never on an ungated route, once for two gates', async () => {
    let resolved = 0;
    const app = build({
      stigg: {
        customer: () => {
          resolved += 1;
          return Promise.resolve('c1');
        },
      },
    });
    await request(app.server).get('/free').expect(200);
    expect(resolved).toBe(0);
    const res = await request(app.server).post('/two').send({ n: 3 }).expect(200);
    expect(resolved).toBe(1);
    expect(Object.keys(res.body.entitlements).sort()).toEqual(['f-a', 'f-b']);
    expect(res.body.entitlement.featureId).toBe('f-b');
    expect(fake.settled).toEqual(
      expect.arrayContaining([
        { featureId: 'f-a', how: 'commit' },
        { featureId: 'f-b', how: 'commit' },
      ]),
    );
  });

  test("a second gate denying releases the first gate's reservation", async () => {
    fake.answer = (input) => fake.lease(input, input.featureId === 'f-a');
    const app = build();
    await request(app.server).post('/two').set(CUSTOMER_HEADER, 'c1').send({ n: 1 }).expect(402);
    expect(app.runs.get('/two')).toBeUndefined();
    expect(fake.settled).toContainEqual({ featureId: 'f-a', how: 'release' });
  });

  test('a denial whose release fails is still rendered as the denial, and the failure is logged', async () => {
    fake.answer = (input) => ({
      ...fake.lease(input, false),
      release: () => {
        throw new Error('store down');
      },
    });
    const logger = recordingLogger();
    const app = build({ stigg: { logger } });
    const res = await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(402);
    expect(res.body).toMatchObject({ accessDeniedReason: 'NoActiveSubscription', featureId: 'f-metered' });
    expect(app.errors).toEqual([]);
    expect(logger.errorsLogged).toHaveLength(1);
  });

  test('a reportWhen that throws is no answer: the status decides (a 200 commits), logged instead of crashing', async () => {
    const logger = recordingLogger();
    const app = build({
      stigg: {
        logger,
        reportWhen: () => {
          throw new Error('bad predicate');
        },
      },
    });
    await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(200);
    await new Promise((r) => setImmediate(r));
    // Released, a completed answer's work was free (test/middleware/report-when-fails.test.ts).
    expect(fake.settled).toEqual([{ featureId: 'f-metered', how: 'commit' }]);
    expect(logger.errorsLogged).toHaveLength(1);
    expect(String(logger.errorsLogged[0]![1])).toMatch(/reportWhen failed/);
  });

  test('a non-metered grant holds no response listeners and is never settled', async () => {
    const app = build();
    await request(app.server).get('/bool').set(CUSTOMER_HEADER, 'c1').expect(200);
    expect(fake.calls[0]).toMatchObject({ featureId: 'f-bool', requestedUsage: undefined });
    expect(fake.settled).toEqual([]);
  });

  describe('next is called exactly once on every path', () => {
    let nexts: string[];
    function counted(overrides: Partial<BuildOptions> = {}) {
      nexts = [];
      return build({ countNext: (id) => nexts.push(id), ...overrides });
    }
    test.each([
      ['granted', 200, () => {}, 1],
      [
        'denied',
        402,
        (f: FakeEntitlements) => {
          f.answer = (i: CheckInput) => f.lease(i, false);
        },
        0,
      ],
      [
        'unavailable',
        503,
        (f: FakeEntitlements) => {
          f.answer = () => {
            throw new EntitlementUnavailableError('f-metered', 1);
          };
        },
        0,
      ],
      [
        'acquire error',
        500,
        (f: FakeEntitlements) => {
          f.answer = () => Promise.reject(new Error('x'));
        },
        passesErrorsToCallback(adapter.kind) ? 1 : 0,
      ],
    ])('%s', async (_name, status, setup, expected) => {
      setup(fake);
      const app = counted();
      await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(status);
      expect(nexts).toHaveLength(expected);
    });
    test('no customer (401)', async () => {
      const app = counted();
      await request(app.server).post('/metered').expect(401);
      expect(nexts).toHaveLength(0);
    });
    test('bad usage from the request (400)', async () => {
      const app = counted();
      await request(app.server).post('/two').set(CUSTOMER_HEADER, 'c1').send({ n: 'three' }).expect(400);
      expect(nexts).toEqual(['f-a']);
    });
    test('stigg() missing', async () => {
      const app = counted({ stigg: false });
      await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(500);
      expect(nexts).toHaveLength(passesErrorsToCallback(adapter.kind) ? 1 : 0);
    });
  });

  test('a route gated without stigg() fails with a TypeError naming the fix and never runs the handler', async () => {
    const app = build({ stigg: false });
    const res = await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(500);
    expect(res.body.error).toMatch(/^requireFeature\('f-metered'\) ran on a request /);
    expect(res.body.error).toContain(missingStiggMessages[adapter.kind]);
    expect(app.errors[0]).toBeInstanceOf(TypeError);
    expect(app.runs.get('/metered')).toBeUndefined();
  });

  test('requireFeature mounted without the call fails with a fix-it TypeError', async () => {
    const uncalled = modules[adapter.kind].requireFeature;
    const app = build({
      routes: [{ method: 'get', path: '/oops', gates: [], use: { [adapter.kind]: [uncalled] } }],
    });
    const res = await request(app.server).get('/oops').set(CUSTOMER_HEADER, 'c1').expect(500);
    expect(res.body.error).toMatch(/^requireFeature was used as a middleware without being called\. Write requireFeature\('feature-id'\)/);
    expect(app.runs.get('/oops')).toBeUndefined();
  });

  test('stigg and entitlementErrorHandler mounted without the call fail with fix-it TypeErrors', async () => {
    const mod = modules[adapter.kind];
    const cases: Array<[unknown, RegExp]> = [
      'stiggPlugin' in mod
        ? [mod.stiggPlugin, /^stiggPlugin is a Fastify plugin, not a hook: register it with app\.register\(stiggPlugin/]
        : [mod.stigg, /^stigg was used as a middleware without being called/],
      [mod.entitlementErrorHandler, /^entitlementErrorHandler was used without being called/],
    ];
    for (const [fn, pattern] of cases) {
      const app = build({ routes: [{ method: 'get', path: '/oops', gates: [], use: { [adapter.kind]: [fn] } }] });
      const res = await request(app.server).get('/oops').expect(500);
      expect(res.body.error).toMatch(pattern);
      expect(app.runs.get('/oops')).toBeUndefined();
    }
  });

  test.each([
    ['BudgetExceeded', 402],
    ['InsufficientCredits', 402],
    ['RequestedValuesMismatch', 403],
    ['FeatureTypeMismatch', 403],
    ['Unknown', 403],
  ] as const)('%s (a reason the emulator does not produce here) answers %d problem+json', async (reason, status) => {
    fake.answer = (input) => fake.lease(input, false, { accessDeniedReason: reason });
    const app = build();
    const res = await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(status);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status, accessDeniedReason: reason, featureId: 'f-metered', requestedUsage: 2 });
    expect(app.runs.get('/metered')).toBeUndefined();
  });

  test('an onDenied that fails reaches the app error handler', async () => {
    fake.answer = (input) => fake.lease(input, false);
    const failure = new Error('renderer broke');
    const app = build({
      stigg: {
        onDenied: () => {
          throw failure;
        },
      },
    });
    const res = await request(app.server).post('/metered').set(CUSTOMER_HEADER, 'c1').expect(500);
    expect(res.body).toEqual({ error: 'renderer broke' });
    expect(app.errors).toEqual([failure]);
    expect(app.runs.get('/metered')).toBeUndefined();
  });
});
