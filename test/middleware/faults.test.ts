import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { EntitlementDeniedError } from '../../src/core/errors';
import { MAX_ID_LENGTH } from '../../src/core/input';
import type { CheckInput, Entitlements, Lease, Logger, MaybePromise } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import { PROBLEM_TYPE_PREFIX } from '../../src/middleware/problem';
import { FakeEntitlements } from './fake';
import { CUSTOMER_HEADER, adapters, close, deferred, listen, type BuildOptions, type RouteSpec } from './harness';
import { forSuite, onFirstUse } from '../support/suite';

// Hostile input and faults, as a second table over every adapter of the harness (issue 12: 1, 8, 18,
// 19; issue 13: 5), with the real core talking to the emulator over loopback HTTP.

const TEMPLATES = 'feature-01-templates';
const CAMPAIGNS = 'feature-02-campaigns';
const ID_HEADER = 'x-test-id-json';

const catalog: Catalog = {
  ...defaultCatalog,
  customers: [
    { id: 'cust-basic', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
    { id: 'cust-sites', subscriptions: [{ planId: 'plan-revvenu-basic', resourceId: 'site-1' }] },
  ],
};

const emu = forSuite(() => startEmulator({ port: 0, catalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));

function usage(customerId: string, featureId: string, resourceId = ''): number {
  return emu.stats().usage[`${customerId}|${resourceId}|${featureId}`] ?? 0;
}

/** Ids the test sends JSON-encoded in a header, since HTTP strips the whitespace these tests are about. */
function idFrom(v: { headers: http.IncomingHttpHeaders }, header: string): unknown {
  const raw = v.headers[header];
  return typeof raw === 'string' ? JSON.parse(decodeURIComponent(raw)) : undefined;
}

function encoded(id: string): string {
  return encodeURIComponent(JSON.stringify(id));
}

const routes: RouteSpec[] = [
  { method: 'post', path: '/templates', gates: [{ featureId: TEMPLATES, usage: 1 }] },
  { method: 'get', path: '/templates', gates: [{ featureId: TEMPLATES, usage: 1 }] },
  {
    method: 'post',
    path: '/sites/templates',
    gates: [{ featureId: TEMPLATES, usage: 1, options: { resource: (v) => idFrom(v, 'x-test-site') } }],
  },
  { method: 'post', path: '/count', gates: [{ featureId: CAMPAIGNS, usage: (v: any) => v.body.count }] },
  { method: 'post', path: '/order-count', gates: [{ featureId: CAMPAIGNS, usage: (v: any) => v.body.order.count }] },
  { method: 'post', path: '/count-db', gates: [{ featureId: CAMPAIGNS, usage: () => Promise.reject(new Error('usage store down')) }] },
];

// The rules are core's idProblem (src/core/input.ts), applied by the middleware before any work.
const BAD_IDS: Array<[string, string, string]> = [
  ['a space', ' ', 'must not be blank'],
  ['U+00A0 (no-break space)', '\u00a0', 'must not be blank'],
  ['U+3000 (ideographic space)', '\u3000', 'must not be blank'],
  ['U+2007 + U+202F', '\u2007\u202f', 'must not be blank'],
  ['U+FEFF (byte order mark)', '\ufeff', 'must not be blank'],
  ['a tab and a newline', '\t\n', 'must not be blank'],
  ['padded with U+00A0', '\u00a0cust-basic', 'must not start or end with whitespace'],
  ['padded with spaces', ' cust-basic ', 'must not start or end with whitespace'],
  ['one character too long', 'c'.repeat(MAX_ID_LENGTH + 1), `must be at most ${MAX_ID_LENGTH} characters (got ${MAX_ID_LENGTH + 1})`],
  ['4 KB', 'c'.repeat(4096), `must be at most ${MAX_ID_LENGTH} characters (got 4096)`],
  ['a NUL inside', 'cust\u0000basic', 'must not contain control characters'],
  ['an escape sequence inside', 'cust\u001b[2Jbasic', 'must not contain control characters'],
  ['a line separator inside', 'cust\u2028basic', 'must not contain control characters'],
];

describe.each(adapters)('$name: hostile input and faults', (adapter) => {
  let entitlements: Entitlements;
  let servers: http.Server[];
  beforeEach(() => {
    emu.reset();
    entitlements = createEntitlements({ client, failMode: 'closed' });
    servers = [];
  });
  afterEach(async () => {
    await entitlements.close();
    await Promise.all(servers.map(close));
  });

  function build(overrides: Partial<BuildOptions> = {}) {
    const built = adapter.build({
      entitlements,
      routes,
      stigg: { customer: (v) => idFrom(v, ID_HEADER) ?? v.headers[CUSTOMER_HEADER] },
      ...overrides,
    });
    servers.push(built.server);
    return built;
  }

  async function expectFullQuota(server: http.Server, customer = 'cust-basic'): Promise<void> {
    for (let i = 0; i < 3; i += 1) await request(server).post('/templates').set(CUSTOMER_HEADER, customer).expect(200);
    await request(server).post('/templates').set(CUSTOMER_HEADER, customer).expect(402);
  }

  /** A request given up before its handler: the handler never ran, nothing was counted, cust-basic's quota is whole. */
  async function expectNothingDone(app: { server: http.Server; runs: Map<string, number> }, path: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(app.runs.get(path)).toBeUndefined();
    await entitlements.flush();
    expect(usage('cust-basic', TEMPLATES)).toBe(0);
    await expectFullQuota(app.server);
  }

  describe('ids (12.1): checked before any work', () => {
    test.each(BAD_IDS)('a customer id that is %s answers 401 problem+json without asking Stigg', async (_name, id, why) => {
      const app = build();
      const res = await request(app.server).post('/templates').set(ID_HEADER, encoded(id)).expect(401);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body).toEqual({
        type: `${PROBLEM_TYPE_PREFIX}invalid-customer-id`,
        title: 'Invalid customer id',
        status: 401,
        detail: `The customer id of this request ${why}, so feature "${TEMPLATES}" cannot be checked.`,
        featureId: TEMPLATES,
      });
      expect(app.runs.get('/templates')).toBeUndefined();
      expect(emu.stats().requests).toBe(0);
    });

    test.each(BAD_IDS)('a resource id that is %s answers 400 problem+json without asking Stigg', async (_name, id, why) => {
      const app = build();
      const res = await request(app.server)
        .post('/sites/templates')
        .set(CUSTOMER_HEADER, 'cust-sites')
        .set('x-test-site', encoded(id))
        .expect(400);
      expect(res.body).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}invalid-resource-id`, status: 400, featureId: TEMPLATES });
      expect(res.body.detail).toContain(why);
      expect(res.text).not.toContain('cccccccc');
      expect(app.runs.get('/sites/templates')).toBeUndefined();
      expect(emu.stats().requests).toBe(0);
    });

    test('blank ids never open the shared circuit breaker: other customers keep being answered', async () => {
      const app = build();
      for (let i = 0; i < 10; i += 1) await request(app.server).post('/templates').set(ID_HEADER, encoded('\u00a0')).expect(401);
      for (let i = 0; i < 10; i += 1)
        await request(app.server).post('/sites/templates').set(CUSTOMER_HEADER, 'cust-sites').set('x-test-site', encoded(' ')).expect(400);
      await expectFullQuota(app.server);
    });

    test.each(['__proto__', 'constructor', 'hasOwnProperty', 'toString'])(
      'the id %s is just an id Stigg does not know (403), for a customer and for a resource',
      async (id) => {
        const app = build();
        const asCustomer = await request(app.server).post('/templates').set(ID_HEADER, encoded(id)).expect(403);
        expect(asCustomer.body.accessDeniedReason).toBe('CustomerNotFound');
        const asResource = await request(app.server)
          .post('/sites/templates')
          .set(CUSTOMER_HEADER, 'cust-sites')
          .set('x-test-site', encoded(id))
          .expect(403);
        expect(asResource.body.accessDeniedReason).toBe('CustomerResourceNotFound');
        await expectFullQuota(app.server);
      },
    );

    test('an id of exactly MAX_ID_LENGTH characters is checked with Stigg (a customer it does not know: 403)', async () => {
      const app = build();
      const res = await request(app.server)
        .post('/templates')
        .set(ID_HEADER, encoded('c'.repeat(MAX_ID_LENGTH)))
        .expect(403);
      expect(res.body.accessDeniedReason).toBe('CustomerNotFound');
    });
  });

  describe('disconnects (12.8): no reservation leak, no handler', () => {
    /** Sends a request on a raw socket, destroys it once `arrived` resolves, and waits for the server to see the close. */
    async function disconnectDuring(app: { server: http.Server }, path: string, arrived: Promise<void>): Promise<void> {
      const base = new URL(await listen(app.server));
      const serverSocketClosed = deferred();
      app.server.once('connection', (socket) => socket.once('close', () => serverSocketClosed.resolve()));
      const socket = net.connect(Number(base.port), base.hostname);
      socket.on('error', () => {});
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${base.host}\r\n${CUSTOMER_HEADER}: cust-basic\r\nContent-Length: 0\r\n\r\n`);
      await arrived;
      socket.destroy();
      await serverSocketClosed.promise;
    }

    test('while the customer resolver is still resolving', async () => {
      const arrived = deferred();
      const gate = deferred();
      const app = build({
        stigg: {
          customer: async (v) => {
            arrived.resolve();
            await gate.promise;
            return v.headers[CUSTOMER_HEADER];
          },
        },
      });
      await disconnectDuring(app, '/templates', arrived.promise);
      gate.resolve();
      await expectNothingDone(app, '/templates');
    });

    test('while Stigg is answering the entitlement check', async () => {
      const arrived = deferred();
      const gate = deferred();
      const real = entitlements;
      const slow: Entitlements = Object.create(real, {
        acquire: {
          value: (input: CheckInput): MaybePromise<Lease> => {
            arrived.resolve();
            return gate.promise.then(() => real.acquire(input));
          },
        },
      });
      const app = build({ entitlements: slow });
      await disconnectDuring(app, '/templates', arrived.promise);
      gate.resolve();
      await expectNothingDone(app, '/templates');
    });

    // On Nest the second requirement (a usage function of the request) is decided by the method's
    // @RequireFeature wrapper, which asks the request context whether the client left (clientGone).
    test("while the second of two gates is deciding: the first gate's reservation is given back too", async () => {
      const arrived = deferred();
      const gate = deferred();
      const twoGates: RouteSpec = {
        method: 'post',
        path: '/two-gates',
        gates: [
          { featureId: TEMPLATES, usage: 1 },
          {
            featureId: CAMPAIGNS,
            usage: async () => {
              arrived.resolve();
              await gate.promise;
              return 1;
            },
          },
        ],
      };
      const app = build({ routes: [...routes, twoGates] });
      await disconnectDuring(app, '/two-gates', arrived.promise);
      gate.resolve();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(app.runs.get('/two-gates')).toBeUndefined();
      await entitlements.flush();
      expect(usage('cust-basic', TEMPLATES)).toBe(0);
      expect(usage('cust-basic', CAMPAIGNS)).toBe(0);
      await expectFullQuota(app.server);
      await request(app.server).post('/count').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 4 }).expect(200);
    });

    // Not on Next: a route handler has no response another middleware could send first (a wrapper that
    // answers instead of its handler, without aborting it, is the app's own race).
    const middlewareChain = adapter.kind === 'next' ? () => undefined : test;
    middlewareChain('a response a timeout middleware already sent while the customer was resolving: no handler, nothing held', async () => {
      const gate = deferred();
      const timedOut: RouteSpec = {
        method: 'post',
        path: '/timed-out',
        gates: [{ featureId: TEMPLATES, usage: 1 }],
        use: {
          express: [
            (_req: unknown, res: { status(n: number): { json(b: unknown): void } }, next: () => void) => {
              setTimeout(() => {
                res.status(503).json({ error: 'timeout' });
                gate.resolve();
              }, 20);
              next();
            },
          ],
          koa: [
            async (ctx: { res: { statusCode: number; end(b: string): void } }, next: () => Promise<void>) => {
              setTimeout(() => {
                ctx.res.statusCode = 503;
                ctx.res.end('{"error":"timeout"}');
                gate.resolve();
              }, 20);
              await next();
            },
          ],
          fastify: [
            (_request: unknown, reply: { code(n: number): { send(b: unknown): void } }, done: () => void) => {
              setTimeout(() => {
                reply.code(503).send({ error: 'timeout' });
                gate.resolve();
              }, 20);
              done();
            },
          ],
          // As hono/timeout does: answer when the time is up, while the rest of the chain still runs.
          hono: [
            async (c: { res: Response }, next: () => Promise<void>) => {
              let timedOut = false;
              await Promise.race([
                next(),
                new Promise<void>((resolve) =>
                  setTimeout(() => {
                    timedOut = true;
                    resolve();
                  }, 20),
                ),
              ]);
              if (!timedOut) return undefined;
              c.res = new Response('{"error":"timeout"}', { status: 503, headers: { 'content-type': 'application/json' } });
              gate.resolve();
              return c.res;
            },
          ],
          // A Nest middleware (Express's response, or Fastify's Node response).
          nest: [
            (_req: unknown, res: { statusCode: number; end(b: string): void }, next: () => void) => {
              setTimeout(() => {
                res.statusCode = 503;
                res.end('{"error":"timeout"}');
                gate.resolve();
              }, 20);
              next();
            },
          ],
        },
      };
      const app = build({
        routes: [...routes, timedOut],
        stigg: {
          customer: async (v) => {
            if (v.headers['x-wait']) await gate.promise;
            return v.headers[CUSTOMER_HEADER];
          },
        },
      });
      await entitlements.check({ customerId: 'cust-basic', featureId: TEMPLATES }); // warm: the decision then comes before 'close'
      await request(app.server).post('/timed-out').set(CUSTOMER_HEADER, 'cust-basic').set('x-wait', '1').expect(503);
      await expectNothingDone(app, '/timed-out');
    });

    test('a request whose client left before requireFeature ran is not checked at all', async () => {
      const arrived = deferred();
      const gate = deferred();
      const slowAuth: RouteSpec = {
        method: 'post',
        path: '/slow-auth',
        gates: [{ featureId: TEMPLATES, usage: 1 }],
        use: {
          express: [
            async (_req: unknown, _res: unknown, next: () => void) => {
              arrived.resolve();
              await gate.promise;
              next();
            },
          ],
          koa: [
            async (_ctx: unknown, next: () => Promise<void>) => {
              arrived.resolve();
              await gate.promise;
              await next();
            },
          ],
          fastify: [
            async () => {
              arrived.resolve();
              await gate.promise;
            },
          ],
          hono: [
            async (_c: unknown, next: () => Promise<void>) => {
              arrived.resolve();
              await gate.promise;
              await next();
            },
          ],
          // withAuth(handler) on Next: the route handler runs after it.
          next: [
            async (_request: Request, next: () => Promise<Response>) => {
              arrived.resolve();
              await gate.promise;
              return next();
            },
          ],
          // An authentication middleware of the Nest app (passport's, a session), before the global StiggGuard.
          nest: [
            async (_req: unknown, _res: unknown, next: () => void) => {
              arrived.resolve();
              await gate.promise;
              next();
            },
          ],
        },
      };
      const app = build({ routes: [...routes, slowAuth] });
      await disconnectDuring(app, '/slow-auth', arrived.promise);
      gate.resolve();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(app.runs.get('/slow-auth')).toBeUndefined();
      expect(emu.stats().requests).toBe(0);
    });
  });

  describe('HEAD on a metered GET: the GET handler runs, so it is metered like the GET', () => {
    test('20 HEADs at a limit of 3: 3 answered and counted, the rest 402 without running the handler', async () => {
      const app = build();
      const statuses = [];
      for (let i = 0; i < 20; i += 1)
        statuses.push((await request(app.server).head('/templates').set(CUSTOMER_HEADER, 'cust-basic')).status);
      expect(statuses).toEqual([...Array(3).fill(200), ...Array(17).fill(402)]);
      expect(app.runs.get('/templates')).toBe(3);
      await request(app.server).get('/templates').set(CUSTOMER_HEADER, 'cust-basic').expect(402);
      await entitlements.flush();
      expect(usage('cust-basic', TEMPLATES)).toBe(3);
    });
  });

  describe('usage functions on missing input (13.5)', () => {
    test.each(['/count', '/order-count'])(
      '%s: a usage function reading a body that is not there answers 400 problem+json',
      async (path) => {
        const app = build();
        const res = await request(app.server).post(path).set(CUSTOMER_HEADER, 'cust-basic').expect(400);
        expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
        expect(res.body).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}invalid-requested-usage`, status: 400, featureId: CAMPAIGNS });
        expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
        expect(app.runs.get(path)).toBeUndefined();
        expect(app.errors).toEqual([]);
      },
    );

    test('a usage of 1e308 from the body is not a unit count (past Number.MAX_SAFE_INTEGER): 400 problem+json, nothing held', async () => {
      const app = build();
      const res = await request(app.server).post('/count').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 1e308 }).expect(400);
      expect(res.body).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}invalid-requested-usage`, status: 400, featureId: CAMPAIGNS });
      expect(app.runs.get('/count')).toBeUndefined();
      await expectFullQuota(app.server);
    });

    test.each([
      ['the largest unit count', Number.MAX_SAFE_INTEGER],
      ['a large integer', 2 ** 40],
    ])('a usage of %s from the body is checked against the limit (402), never wrapped or granted', async (_name, count) => {
      const app = build();
      const res = await request(app.server).post('/count').set(CUSTOMER_HEADER, 'cust-basic').send({ count }).expect(402);
      expect(res.body).toMatchObject({ accessDeniedReason: 'RequestedUsageExceedingLimit', requestedUsage: count, usageLimit: 4 });
      await entitlements.flush();
      expect(usage('cust-basic', CAMPAIGNS)).toBe(0);
    });

    test("fractional usage (core's policy): granted up to the limit, then nothing above 0, not even 1e-16 (12.19)", async () => {
      const app = build();
      await request(app.server).post('/count').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 3.5 }).expect(200);
      await request(app.server).post('/count').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 0.5 }).expect(200);
      const res = await request(app.server).post('/count').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 1e-16 }).expect(402);
      expect(res.body).toMatchObject({
        accessDeniedReason: 'RequestedUsageExceedingLimit',
        requestedUsage: 1e-16,
        currentUsage: 4,
        usageLimit: 4,
      });
      expect(res.body.detail).toContain('Requesting 1e-16 more of feature "feature-02-campaigns" would exceed the limit of 4 (4 used)');
      await request(app.server).post('/count').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 0 }).expect(200);
      await entitlements.flush();
      expect(usage('cust-basic', CAMPAIGNS)).toBe(4);
    });

    test('a usage function that throws a TypeError is warned about once per feature', async () => {
      const warnings: unknown[][] = [];
      const logger: Logger = { warn: (...a: unknown[]) => void warnings.push(a), error: () => {} };
      const app = build({ stigg: { customer: (v) => v.headers[CUSTOMER_HEADER], logger } });
      await request(app.server).post('/order-count').set(CUSTOMER_HEADER, 'cust-basic').expect(400);
      await request(app.server).post('/order-count').set(CUSTOMER_HEADER, 'cust-basic').send({ order: null }).expect(400);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]![0]).toMatchObject({ featureId: CAMPAIGNS, error: expect.any(TypeError) });
      expect(emu.stats().requests).toBe(0);
    });

    test("any other failure of the usage function is the app's: it reaches its error handler", async () => {
      const app = build();
      await request(app.server).post('/count-db').set(CUSTOMER_HEADER, 'cust-basic').expect(500);
      expect(app.errors).toEqual([new Error('usage store down')]);
      expect(app.runs.get('/count-db')).toBeUndefined();
    });
  });
});

describe.each(adapters)('$name: a reason Stigg added after this version (12.18, 11.5)', (adapter) => {
  let servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.map(close));
    servers = [];
  });

  test('answers 403 with a generic title, the reason verbatim, every member present, and warns once', async () => {
    const fake = new FakeEntitlements();
    fake.answer = (input) =>
      fake.lease(input, false, { accessDeniedReason: 'EntitlementNotFound' as never, usageLimit: null, currentUsage: null });
    const warnings: unknown[][] = [];
    const logger: Logger = { warn: (...a: unknown[]) => void warnings.push(a), error: () => {} };
    const app = adapter.build({
      entitlements: fake,
      stigg: { logger },
      routes: [{ method: 'get', path: '/new', gates: [{ featureId: 'f-new' }] }],
    });
    servers.push(app.server);
    for (let i = 0; i < 2; i += 1) {
      const res = await request(app.server).get('/new').set(CUSTOMER_HEADER, 'c1').expect(403);
      expect(res.body).toEqual({
        type: `${PROBLEM_TYPE_PREFIX}entitlement-not-found`,
        title: 'Access denied',
        status: 403,
        detail: 'Access to feature "f-new" was denied (EntitlementNotFound).',
        featureId: 'f-new',
        accessDeniedReason: 'EntitlementNotFound',
        requestedUsage: 0,
        currentUsage: null,
        usageLimit: null,
        remaining: null,
        usagePeriodEnd: null,
      });
    }
    expect(app.runs.get('/new')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![0]).toEqual({ featureId: 'f-new', accessDeniedReason: 'EntitlementNotFound' });
  });

  test('thrown by a service, it renders the same way through entitlementErrorHandler', async () => {
    const fake = new FakeEntitlements();
    const denied = fake.lease({ customerId: 'c1', featureId: 'f-new' }, false, { accessDeniedReason: 'SomethingNew' as never });
    const warnings: unknown[][] = [];
    const logger: Logger = { warn: (...a: unknown[]) => void warnings.push(a), error: () => {} };
    const app = adapter.build({
      entitlements: fake,
      stigg: { logger },
      routes: [
        {
          method: 'get',
          path: '/service',
          gates: [],
          handler: { throws: 'async', error: () => new EntitlementDeniedError(denied.decision) },
        },
      ],
    });
    servers.push(app.server);
    for (let i = 0; i < 2; i += 1) {
      const res = await request(app.server).get('/service').set(CUSTOMER_HEADER, 'c1').expect(403);
      expect(res.body).toMatchObject({
        title: 'Access denied',
        accessDeniedReason: 'SomethingNew',
        type: `${PROBLEM_TYPE_PREFIX}something-new`,
      });
    }
    expect(warnings).toHaveLength(1);
  });
});
