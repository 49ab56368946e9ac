import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { StiggModule } from 'stigg-gate/nest';
import { ANALYTICS, CAMPAIGNS, TEMPLATES, startRig } from '../decorators/rig';
import { CatchEverythingFilter, GatedController, ReportService, createApp, customerFromHeader, platforms, runs } from './app';
import { forSuite } from '../support/suite';

const PROBLEM = /^application\/problem\+json/;

const rig = forSuite(() => startRig());

describe.each(platforms)('stigg-gate/nest on %s', (platform) => {
  let app: INestApplication;

  async function start(configure?: (app: INestApplication) => void): Promise<void> {
    app = await createApp(
      platform,
      {
        imports: [StiggModule.forRoot({ entitlements: rig.entitlements, customer: customerFromHeader })],
        controllers: [GatedController],
        providers: [ReportService],
      },
      configure,
    );
  }

  beforeEach(async () => {
    runs.clear();
    await rig.next();
  });
  afterEach(async () => {
    await app?.close();
  });

  it('grants a gated route and reports its usage exactly once (guard and method wrapper do not both reserve)', async () => {
    await start();
    const granted = await request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic');
    expect(granted.status).toBe(201);
    expect(granted.body).toEqual({ created: true });
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(1);
    // c-basic has 3 templates: a route that reserved twice per request would be denied on the second.
    for (const expected of [201, 201, 402]) {
      expect((await request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic')).status).toBe(expected);
    }
    expect(runs.get('createTemplate')).toBe(3);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(3);
  });

  it('denies with 402 problem+json before the handler runs', async () => {
    await start();
    const denied = await request(app.getHttpServer()).get('/analytics').set('x-customer', 'c-basic');
    expect(denied.status).toBe(402);
    expect(denied.headers['content-type']).toMatch(PROBLEM);
    expect(denied.body).toEqual({
      type: 'urn:stigg-gate:problem:no-feature-entitlement-in-subscription',
      title: 'Feature not included in the subscription',
      status: 402,
      detail: `The customer's subscription does not include feature "${ANALYTICS}".`,
      featureId: ANALYTICS,
      accessDeniedReason: 'NoFeatureEntitlementInSubscription',
      requestedUsage: 0,
      currentUsage: null,
      usageLimit: null,
      remaining: null,
      usagePeriodEnd: null,
    });
    expect(runs.get('analytics')).toBeUndefined();
  });

  it('denies an unknown customer with 403 problem+json, and a limit reached with 402 and the usage', async () => {
    await start();
    const unknown = await request(app.getHttpServer()).get('/analytics').set('x-customer', 'c-nobody');
    expect(unknown.status).toBe(403);
    expect(unknown.headers['content-type']).toMatch(PROBLEM);
    expect(unknown.body).toMatchObject({ status: 403, accessDeniedReason: 'CustomerNotFound', featureId: ANALYTICS });
    const grown = await request(app.getHttpServer()).get('/analytics').set('x-customer', 'c-growth');
    expect(grown.status).toBe(200);
    expect(runs.get('analytics')).toBe(1);
  });

  it('answers 401 problem+json when the resolver finds no customer', async () => {
    await start();
    const anonymous = await request(app.getHttpServer()).post('/templates');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(PROBLEM);
    expect(anonymous.body).toMatchObject({ status: 401, title: 'No customer', featureId: TEMPLATES });
    expect(runs.get('createTemplate')).toBeUndefined();
  });

  it('reports nothing for a handler that throws, and its units are usable again at once', async () => {
    await start();
    expect((await request(app.getHttpServer()).post('/failing').set('x-customer', 'c-basic')).status).toBe(500);
    expect((await request(app.getHttpServer()).post('/rejected').set('x-customer', 'c-basic')).status).toBe(409);
    expect(runs.get('failing')).toBe(1);
    expect(runs.get('rejected')).toBe(1);
    for (let i = 0; i < 3; i += 1) {
      expect((await request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic')).status).toBe(201);
    }
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(3);
  });

  it('grants exactly 3 of 30 parallel requests against 3 remaining units', async () => {
    await start();
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic')),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    expect(statuses.filter((status) => status === 402)).toHaveLength(27);
    expect(runs.get('createTemplate')).toBe(3);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(3);
  });

  it('enforces usage computed from the arguments in the method wrapper, inside the request context', async () => {
    await start();
    const tooMany = await request(app.getHttpServer()).post('/campaigns').set('x-customer', 'c-basic').send({ count: 5 });
    expect(tooMany.status).toBe(402);
    expect(tooMany.headers['content-type']).toMatch(PROBLEM);
    expect(tooMany.body).toMatchObject({
      featureId: CAMPAIGNS,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      requestedUsage: 5,
      usageLimit: 4,
    });
    expect(runs.get('createCampaigns')).toBeUndefined();
    const fits = await request(app.getHttpServer()).post('/campaigns').set('x-customer', 'c-basic').send({ count: 2 });
    expect(fits.status).toBe(201);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(2);
  });

  it('answers 400 problem+json when the usage computed from the body is not a number', async () => {
    await start();
    const bad = await request(app.getHttpServer()).post('/campaigns').set('x-customer', 'c-basic').send({ count: 'many' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(PROBLEM);
    expect(bad.body).toMatchObject({ status: 400, title: 'Invalid requested usage', featureId: CAMPAIGNS });
    expect(runs.get('createCampaigns')).toBeUndefined();
  });

  it("splits one handler's features between the guard (constant usage) and the wrapper (usage from the body), each once", async () => {
    await start();
    const tooMany = await request(app.getHttpServer()).post('/bundle').set('x-customer', 'c-basic').send({ count: 5 });
    expect(tooMany.status).toBe(402);
    expect(tooMany.body).toMatchObject({ featureId: CAMPAIGNS });
    expect(runs.get('bundle')).toBeUndefined();
    const fits = await request(app.getHttpServer()).post('/bundle').set('x-customer', 'c-basic').send({ count: 3 });
    expect(fits.status).toBe(201);
    expect(runs.get('bundle')).toBe(1);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(1);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(3);
    // The wrapper's denial released the guard's template unit: 2 of 3 templates are left.
    for (const expected of [201, 201, 402]) {
      expect((await request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic')).status).toBe(expected);
    }
  });

  it('keeps @ReportUsage on a guarded controller method', async () => {
    await start();
    expect((await request(app.getHttpServer()).post('/metered').set('x-customer', 'c-basic')).status).toBe(201);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(1);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(2);
  });

  it('enters the request context for decorated service methods called by an ungated route', async () => {
    await start();
    const growth = await request(app.getHttpServer()).get('/report').set('x-customer', 'c-growth');
    expect(growth.status).toBe(200);
    expect(growth.body).toEqual({ visits: 42 });
    const basic = await request(app.getHttpServer()).get('/report').set('x-customer', 'c-basic');
    expect(basic.status).toBe(402);
    expect(basic.headers['content-type']).toMatch(PROBLEM);
    expect(basic.body).toMatchObject({
      featureId: ANALYTICS,
      accessDeniedReason: 'NoFeatureEntitlementInSubscription',
    });
    const anonymous = await request(app.getHttpServer()).get('/report');
    expect(anonymous.status).toBe(401);
    expect(runs.get('ReportService.monthly')).toBe(1);
  });

  it('commits a StreamableFile response once the stream was delivered', async () => {
    await start();
    const file = await request(app.getHttpServer()).get('/export').set('x-customer', 'c-basic');
    expect(file.status).toBe(200);
    expect(file.text).toBe('line 1\nline 2\n');
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(1);
  });

  it("keeps the denial's status and body when the app has its own catch-all global filter", async () => {
    await start((nest) => nest.useGlobalFilters(new CatchEverythingFilter()));
    const denied = await request(app.getHttpServer()).get('/analytics').set('x-customer', 'c-basic');
    expect(denied.status).toBe(402);
    expect(denied.headers['content-type']).toMatch(PROBLEM);
    expect(denied.body).toMatchObject({
      accessDeniedReason: 'NoFeatureEntitlementInSubscription',
      featureId: ANALYTICS,
    });
    const fromService = await request(app.getHttpServer()).get('/report').set('x-customer', 'c-basic');
    expect(fromService.status).toBe(402);
    expect(fromService.body).toMatchObject({ accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
    // Everything else is still the app's filter's to render.
    const failed = await request(app.getHttpServer()).post('/failing').set('x-customer', 'c-basic');
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ statusCode: 500, handledBy: 'CatchEverythingFilter' });
    expect(runs.get('analytics')).toBeUndefined();
  });

  it('leaves ungated routes alone', async () => {
    await start();
    const open = await request(app.getHttpServer()).get('/open');
    expect(open.status).toBe(200);
    expect(open.body).toEqual({ ok: true });
  });
});
