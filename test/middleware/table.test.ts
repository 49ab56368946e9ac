import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { EntitlementDeniedError, EntitlementUnavailableError } from '../../src/core/errors';
import type { AccessDeniedReason, Entitlements, Logger } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import { PROBLEM_TYPE_PREFIX } from '../../src/middleware/problem';
import { CUSTOMER_HEADER, adapters, close, deferred, listen, type BuildOptions, type HandlerSpec, type RouteSpec } from './harness';
import { forSuite, onFirstUse } from '../support/suite';

// One table of HTTP cases, run against every adapter of the harness (./harness.ts), with the real core
// (createEntitlements) talking to the emulator over loopback HTTP.

const TEMPLATES = 'feature-01-templates';
const CAMPAIGNS = 'feature-02-campaigns';
const CUSTOM_DOMAIN = 'feature-03-custom-domain';
const ANALYTICS = 'feature-04-analytics';

const catalog: Catalog = {
  ...defaultCatalog,
  customers: [
    { id: 'cust-basic', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
    { id: 'cust-growth', subscriptions: [{ planId: 'plan-revvenu-growth' }] },
    { id: 'cust-none' },
    { id: 'cust-archived', archived: true, subscriptions: [{ planId: 'plan-revvenu-growth' }] },
    { id: 'cust-sites', subscriptions: [{ planId: 'plan-revvenu-basic', resourceId: 'site-1' }] },
    { id: 'cust-promo', promotionalEntitlements: [{ featureId: ANALYTICS, period: 'ONE_MONTH' }] },
  ],
};

const emu = forSuite(() => startEmulator({ port: 0, catalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));

function usage(customerId: string, featureId: string, resourceId = ''): number {
  return emu.stats().usage[`${customerId}|${resourceId}|${featureId}`] ?? 0;
}

function hold(): { spec: HandlerSpec; started: Promise<void>; release: () => void } {
  const started = deferred();
  const gate = deferred();
  return {
    spec: {
      hold: () => {
        started.resolve();
        return gate.promise;
      },
    },
    started: started.promise,
    release: () => gate.resolve(),
  };
}

function routes(extra: RouteSpec[] = []): RouteSpec[] {
  return [
    { method: 'post', path: '/templates', gates: [{ featureId: TEMPLATES, usage: 1 }] },
    { method: 'post', path: '/campaigns', gates: [{ featureId: CAMPAIGNS, usage: (v: any) => v.body?.count }] },
    { method: 'get', path: '/analytics', gates: [{ featureId: ANALYTICS }] },
    { method: 'get', path: '/custom-domain', gates: [{ featureId: CUSTOM_DOMAIN }] },
    { method: 'get', path: '/unknown', gates: [{ featureId: 'feature-99-missing' }] },
    { method: 'post', path: '/analytics-units', gates: [{ featureId: ANALYTICS, usage: 1 }] },
    {
      method: 'post',
      path: '/sites/:siteId/templates',
      gates: [{ featureId: TEMPLATES, usage: 1, options: { resource: (v) => v.params.siteId } }],
    },
    {
      method: 'post',
      path: '/both',
      gates: [
        { featureId: TEMPLATES, usage: 1 },
        { featureId: CAMPAIGNS, usage: (v: any) => Promise.resolve(v.body.count) },
      ],
    },
    { method: 'post', path: '/templates-400', gates: [{ featureId: TEMPLATES, usage: 1 }], handler: { status: 400 } },
    { method: 'post', path: '/templates-500', gates: [{ featureId: TEMPLATES, usage: 1 }], handler: { status: 500 } },
    { method: 'post', path: '/templates-throw', gates: [{ featureId: TEMPLATES, usage: 1 }], handler: { throws: 'sync' } },
    { method: 'post', path: '/templates-reject', gates: [{ featureId: TEMPLATES, usage: 1 }], handler: { throws: 'async' } },
    ...extra,
  ];
}

/** Three units succeed and the fourth is denied: proves no unit of the quota is held or used. */
async function expectFullQuota(server: http.Server, customer = 'cust-basic'): Promise<void> {
  await expectQuota(server, 3, customer);
}

/** `left` more templates are granted, then 402. */
async function expectQuota(server: http.Server, left: number, customer = 'cust-basic'): Promise<void> {
  for (let i = 0; i < left; i += 1) await request(server).post('/templates').set(CUSTOMER_HEADER, customer).expect(200);
  await request(server).post('/templates').set(CUSTOMER_HEADER, customer).expect(402);
}

describe.each(adapters)('$name: requireFeature against the emulator', (adapter) => {
  // Nest: a requirement with a usage function or a resource of its own is decided by the method's
  // @RequireFeature wrapper, after @EntitlementDecision() was resolved: the handler cannot read it (docs/nest.md).
  const readsEveryDecision = adapter.kind !== 'nest';
  // Nest: @RequireFeature takes no statusMapping of its own; StiggModule's applies to every route.
  const routeStatusMapping = adapter.kind === 'nest' ? () => undefined : test;
  let entitlements: Entitlements;
  let servers: http.Server[];
  beforeEach(() => {
    emu.reset();
    entitlements = createEntitlements({ client });
    servers = [];
  });
  afterEach(async () => {
    await entitlements.close();
    await Promise.all(servers.map(close));
  });

  function build(overrides: Partial<BuildOptions> = {}) {
    const built = adapter.build({ entitlements, routes: routes(), ...overrides });
    servers.push(built.server);
    return built;
  }

  test('end to end: a basic customer gets three templates, a 402 on the fourth, and exactly 3 units are reported', async () => {
    const app = build();
    for (let i = 0; i < 3; i += 1) {
      const res = await request(app.server).post('/templates').set(CUSTOMER_HEADER, 'cust-basic').expect(200);
      expect(res.body.entitlement).toMatchObject({ granted: true, featureId: TEMPLATES, requestedUsage: 1, usageLimit: 3 });
    }
    const res = await request(app.server).post('/templates').set(CUSTOMER_HEADER, 'cust-basic').expect(402);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}requested-usage-exceeding-limit`,
      title: 'Usage limit reached',
      status: 402,
      detail: `Requesting 1 more of feature "${TEMPLATES}" would exceed the limit of 3 (3 used).`,
      featureId: TEMPLATES,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      requestedUsage: 1,
      currentUsage: 3,
      usageLimit: 3,
      remaining: 0,
      usagePeriodEnd: null,
    });
    expect(app.runs.get('/templates')).toBe(3);
    await entitlements.flush();
    expect(usage('cust-basic', TEMPLATES)).toBe(3);
  });

  test('usage comes from the request body and is reported after a 2xx', async () => {
    const app = build();
    await request(app.server).post('/campaigns').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 3 }).expect(200);
    await entitlements.flush();
    expect(usage('cust-basic', CAMPAIGNS)).toBe(3);
    const res = await request(app.server).post('/campaigns').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 2 }).expect(402);
    expect(res.body).toMatchObject({
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      requestedUsage: 2,
      currentUsage: 3,
      usageLimit: 4,
    });
    expect(Date.parse(res.body.usagePeriodEnd)).toBeGreaterThan(Date.now());
  });

  test.each([
    ['a 4xx response', '/templates-400', 400],
    ['a 5xx response', '/templates-500', 500],
    ['a handler that throws', '/templates-throw', 500],
    ['a handler that rejects', '/templates-reject', 500],
  ])('%s reports nothing and gives the reservation back', async (_name, path, status) => {
    const app = build();
    await request(app.server).post(path).set(CUSTOMER_HEADER, 'cust-basic').expect(status);
    expect(app.runs.get(path)).toBe(1);
    await entitlements.flush();
    expect(usage('cust-basic', TEMPLATES)).toBe(0);
    await expectFullQuota(app.server);
  });

  test('a downstream error reaches the app untouched (never turned into a denial)', async () => {
    const app = build();
    await request(app.server).post('/templates-reject').set(CUSTOMER_HEADER, 'cust-basic').expect(500);
    expect(app.errors).toHaveLength(1);
    expect((app.errors[0] as Error).message).toBe('boom');
  });

  test('a client that disconnects while the handler works is still charged for the work it got (no free work on a hang-up)', async () => {
    const held = hold();
    const app = build({
      routes: routes([{ method: 'post', path: '/templates-slow', gates: [{ featureId: TEMPLATES, usage: 1 }], handler: held.spec }]),
    });
    const base = new URL(await listen(app.server));
    const serverSocketClosed = deferred();
    app.server.once('connection', (socket) => socket.once('close', () => serverSocketClosed.resolve()));
    const socket = net.connect(Number(base.port), base.hostname);
    socket.on('error', () => {});
    socket.write(`POST /templates-slow HTTP/1.1\r\nHost: ${base.host}\r\n${CUSTOMER_HEADER}: cust-basic\r\nContent-Length: 0\r\n\r\n`);
    await held.started;
    socket.destroy();
    await serverSocketClosed.promise;
    held.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(app.runs.get('/templates-slow')).toBe(1);
    await entitlements.flush();
    expect(usage('cust-basic', TEMPLATES)).toBe(1);
    await expectQuota(app.server, 2);
  });

  test('usage is reported for responses on a kept-alive connection', async () => {
    const app = build();
    const base = await listen(app.server);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    app.server.on('connection', (socket) => sockets.add(socket));
    try {
      for (let i = 0; i < 2; i += 1) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request(`${base}/templates`, { method: 'POST', agent, headers: { [CUSTOMER_HEADER]: 'cust-basic' } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
        expect(status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
    expect(sockets.size).toBe(1);
    await entitlements.flush();
    expect(usage('cust-basic', TEMPLATES)).toBe(2);
  });

  test('a boolean feature is checked and never reported', async () => {
    const app = build();
    const res = await request(app.server).get('/analytics').set(CUSTOMER_HEADER, 'cust-growth').expect(200);
    expect(res.body.entitlement).toMatchObject({ granted: true, featureId: ANALYTICS, metered: false });
    await request(app.server).get('/custom-domain').set(CUSTOMER_HEADER, 'cust-growth').expect(200);
    await entitlements.flush();
    expect(emu.stats().operations.reportUsageBulk ?? 0).toBe(0);
    expect(emu.stats().usage).toEqual({});
  });

  test('a resource-scoped check uses the resource resolver and reports against the resource', async () => {
    const app = build();
    const res = await request(app.server).post('/sites/site-1/templates').set(CUSTOMER_HEADER, 'cust-sites').expect(200);
    if (readsEveryDecision) expect(res.body.entitlement).toMatchObject({ granted: true, resourceId: 'site-1' });
    await entitlements.flush();
    expect(usage('cust-sites', TEMPLATES, 'site-1')).toBe(1);
    expect(usage('cust-sites', TEMPLATES)).toBe(0);
  });

  test('several requireFeature on one route: both decisions exposed, both reported', async () => {
    const app = build();
    const res = await request(app.server).post('/both').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 2 }).expect(200);
    expect(res.body.entitlements[TEMPLATES]).toMatchObject({ granted: true, requestedUsage: 1 });
    if (readsEveryDecision) {
      expect(res.body.entitlement.featureId).toBe(CAMPAIGNS);
      expect(res.body.entitlements[CAMPAIGNS]).toMatchObject({ granted: true, requestedUsage: 2 });
    }
    await entitlements.flush();
    expect(usage('cust-basic', TEMPLATES)).toBe(1);
    expect(usage('cust-basic', CAMPAIGNS)).toBe(2);
  });

  test('several requireFeature on one route: the second denying releases the first', async () => {
    const app = build();
    const res = await request(app.server).post('/both').set(CUSTOMER_HEADER, 'cust-basic').send({ count: 10 }).expect(402);
    expect(res.body.featureId).toBe(CAMPAIGNS);
    expect(app.runs.get('/both')).toBeUndefined();
    await entitlements.flush();
    expect(usage('cust-basic', TEMPLATES)).toBe(0);
    await expectFullQuota(app.server);
  });

  interface DenialCase {
    reason: AccessDeniedReason;
    status: number;
    customer: string;
    method: 'get' | 'post';
    path: string;
    setup?: () => Promise<unknown>;
  }
  const denials: DenialCase[] = [
    { reason: 'CustomerNotFound', status: 403, customer: 'cust-ghost', method: 'get', path: '/analytics' },
    { reason: 'NoActiveSubscription', status: 402, customer: 'cust-none', method: 'get', path: '/analytics' },
    { reason: 'NoFeatureEntitlementInSubscription', status: 402, customer: 'cust-basic', method: 'get', path: '/analytics' },
    { reason: 'FeatureNotFound', status: 403, customer: 'cust-basic', method: 'get', path: '/unknown' },
    { reason: 'FeatureTypeMismatch', status: 403, customer: 'cust-growth', method: 'post', path: '/analytics-units' },
    { reason: 'CustomerIsArchived', status: 403, customer: 'cust-archived', method: 'get', path: '/analytics' },
    { reason: 'CustomerResourceNotFound', status: 403, customer: 'cust-sites', method: 'post', path: '/sites/site-2/templates' },
    {
      reason: 'Revoked',
      status: 403,
      customer: 'cust-promo',
      method: 'get',
      path: '/analytics',
      setup: () => client.revokePromotionalEntitlement({ customerId: 'cust-promo', featureId: ANALYTICS }),
    },
  ];
  test.each(denials)(
    '$reason answers $status problem+json and never runs the handler',
    async ({ reason, status, customer, method, path, setup }) => {
      await setup?.();
      const app = build();
      const res = await request(app.server)[method](path).set(CUSTOMER_HEADER, customer).expect(status);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body).toMatchObject({
        type: PROBLEM_TYPE_PREFIX + reason.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase(),
        status,
        accessDeniedReason: reason,
        featureId: expect.any(String),
        requestedUsage: expect.any(Number),
      });
      expect(typeof res.body.title).toBe('string');
      expect(typeof res.body.detail).toBe('string');
      expect(res.text).not.toContain(emu.apiKey);
      expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
      expect(app.runs.get(path)).toBeUndefined();
    },
  );

  test('misconfiguration reasons are logged once per feature and reason', async () => {
    const warnings: unknown[][] = [];
    const logger: Logger = { warn: (...a: unknown[]) => void warnings.push(a), error: () => {} };
    const app = build({ stigg: { logger } });
    await request(app.server).get('/unknown').set(CUSTOMER_HEADER, 'cust-basic').expect(403);
    await request(app.server).get('/unknown').set(CUSTOMER_HEADER, 'cust-growth').expect(403);
    await request(app.server).get('/analytics').set(CUSTOMER_HEADER, 'cust-basic').expect(402);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![0]).toEqual({ featureId: 'feature-99-missing', accessDeniedReason: 'FeatureNotFound' });
  });

  test('no customer answers 401 problem+json', async () => {
    const app = build();
    const res = await request(app.server).post('/templates').expect(401);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}no-customer`,
      title: 'No customer',
      status: 401,
      detail: `Feature "${TEMPLATES}" requires an authenticated customer, and none was found on this request.`,
      featureId: TEMPLATES,
    });
    expect(app.runs.get('/templates')).toBeUndefined();
    expect(emu.stats().requests).toBe(0);
  });

  test.each([
    ['negative', { count: -1 }, 'gave -1'],
    ['a string', { count: '3' }, 'gave a value of type string'],
    ['missing', {}, 'gave a value of type undefined'],
    ['infinite (1e999 parses to Infinity)', '{"count":1e999}', 'gave Infinity'],
  ])('usage from the request that is %s answers 400', async (_name, body, detail) => {
    const app = build();
    const res = await request(app.server)
      .post('/campaigns')
      .set(CUSTOMER_HEADER, 'cust-basic')
      .set('Content-Type', 'application/json')
      .send(body)
      .expect(400);
    expect(res.body).toMatchObject({ status: 400, type: `${PROBLEM_TYPE_PREFIX}invalid-requested-usage`, featureId: CAMPAIGNS });
    expect(res.body.detail).toContain(detail);
    expect(app.runs.get('/campaigns')).toBeUndefined();
  });

  test('Stigg unreachable with nothing cached answers 503 with Retry-After (fail-closed)', async () => {
    const closed = http.createServer();
    const url = await listen(closed);
    await close(closed);
    const offline = createEntitlements({
      client: new StiggClient({ apiKey: 'k', apiUrl: `${url}/graphql`, maxRetries: 0, timeoutMs: 1000 }),
      failMode: 'closed',
      retryAfterSeconds: 4,
    });
    try {
      const app = build({ entitlements: offline });
      const res = await request(app.server).post('/templates').set(CUSTOMER_HEADER, 'cust-basic').expect(503);
      expect(res.headers['retry-after']).toBe('4');
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body).toMatchObject({ status: 503, featureId: TEMPLATES, type: `${PROBLEM_TYPE_PREFIX}entitlements-unavailable` });
      expect(app.runs.get('/templates')).toBeUndefined();
    } finally {
      await offline.close();
    }
  });

  routeStatusMapping('statusMapping: a route mapping beats the stigg() mapping, which beats the default', async () => {
    const app = build({
      stigg: { statusMapping: { NoFeatureEntitlementInSubscription: 403, RequestedUsageExceedingLimit: 429 } },
      routes: routes([
        {
          method: 'get',
          path: '/analytics-418',
          gates: [{ featureId: ANALYTICS, options: { statusMapping: { NoFeatureEntitlementInSubscription: 418 } } }],
        },
      ]),
    });
    await request(app.server).get('/analytics').set(CUSTOMER_HEADER, 'cust-basic').expect(403);
    const res = await request(app.server).get('/analytics-418').set(CUSTOMER_HEADER, 'cust-basic').expect(418);
    expect(res.body.status).toBe(418);
    await request(app.server).get('/analytics').set(CUSTOMER_HEADER, 'cust-none').expect(402);
  });

  test('onDenied renders the denial instead, and the handler still does not run', async () => {
    const app = build({
      stigg: {
        onDenied: (decision) => ({
          status: 402,
          body: { upgrade: `/billing?feature=${decision.featureId}`, reason: decision.accessDeniedReason },
        }),
      },
    });
    const res = await request(app.server).get('/analytics').set(CUSTOMER_HEADER, 'cust-basic').expect(402);
    expect(res.body).toEqual({ upgrade: `/billing?feature=${ANALYTICS}`, reason: 'NoFeatureEntitlementInSubscription' });
    expect(app.runs.get('/analytics')).toBeUndefined();
  });

  test('reportWhen decides which statuses count as success', async () => {
    const app = build({ stigg: { reportWhen: (s) => s < 500 } });
    await request(app.server).post('/templates-400').set(CUSTOMER_HEADER, 'cust-basic').expect(400);
    await request(app.server).post('/templates-500').set(CUSTOMER_HEADER, 'cust-basic').expect(500);
    await entitlements.flush();
    expect(usage('cust-basic', TEMPLATES)).toBe(1);
  });

  describe('entitlementErrorHandler', () => {
    async function throwing(error: () => unknown) {
      const app = build({ routes: [{ method: 'get', path: '/service', gates: [], handler: { throws: 'async', error } }] });
      return { app, res: await request(app.server).get('/service').set(CUSTOMER_HEADER, 'cust-basic') };
    }
    test('renders EntitlementDeniedError thrown by a service as the same problem+json', async () => {
      const decision = await entitlements.check({ customerId: 'cust-basic', featureId: ANALYTICS });
      const { app, res } = await throwing(() => new EntitlementDeniedError(decision));
      expect(res.status).toBe(402);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body).toMatchObject({ status: 402, featureId: ANALYTICS, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
      expect(app.errors).toHaveLength(0);
    });
    test('renders EntitlementUnavailableError as 503 with Retry-After', async () => {
      const { res } = await throwing(() => new EntitlementUnavailableError(TEMPLATES, 3));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('3');
      expect(res.body).toMatchObject({ status: 503, featureId: TEMPLATES });
    });
    test('uses the stigg() status mapping for thrown denials', async () => {
      const decision = await entitlements.check({ customerId: 'cust-basic', featureId: ANALYTICS });
      const app = build({
        stigg: { statusMapping: { NoFeatureEntitlementInSubscription: 403 } },
        routes: [
          { method: 'get', path: '/service', gates: [], handler: { throws: 'async', error: () => new EntitlementDeniedError(decision) } },
        ],
      });
      await request(app.server).get('/service').set(CUSTOMER_HEADER, 'cust-basic').expect(403);
    });
    test('passes every other error on', async () => {
      const failure = new Error('database down');
      const { app, res } = await throwing(() => failure);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'database down' });
      expect(app.errors).toEqual([failure]);
    });
  });
});
