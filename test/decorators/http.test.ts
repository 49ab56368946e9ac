import 'reflect-metadata';
import express5 from 'express';
import type { NextFunction, Request, Response } from 'express';
import Koa from 'koa';
import type { Context } from 'koa';
import request from 'supertest';
import * as ex from '../../src/middleware/express';
import * as ko from '../../src/middleware/koa';
import type { Entitlements } from '../../src/core/types';
import { ReportUsage, RequireFeature } from '../../src/decorators';
import { CAMPAIGNS, startRig } from './rig';
import { MAX_ID_LENGTH } from '../../src/core/input';
import { forSuite } from '../support/suite';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const express4 = require('express4') as typeof express5;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Koa2 = require('koa2') as typeof Koa;

/** A service that knows nothing about HTTP: the customer comes from the request context stigg() set up. */
class CampaignService {
  runs: number[] = [];

  @RequireFeature(CAMPAIGNS, (count: number) => count)
  async launch(count: number): Promise<{ launched: number }> {
    await new Promise((resolve) => setImmediate(resolve));
    this.runs.push(count);
    return { launched: count };
  }

  /** The app's own metering bug: the usage computed from the result is not a number. */
  @ReportUsage(CAMPAIGNS, () => Number.NaN)
  async miscount(): Promise<{ ok: true }> {
    return { ok: true };
  }
}

type App = Parameters<typeof request>[0];

function expressApp(make: typeof express5, service: CampaignService, entitlements: Entitlements): App {
  const app = make();
  app.use(ex.stigg({ entitlements, customer: (req) => req.get('x-customer'), resource: (req) => req.get('x-site') }));
  app.post('/campaigns/:count', function launchRoute(req: Request, res: Response, next: NextFunction) {
    // Written for Express 4 too, which does not catch rejected handlers.
    service.launch(Number(req.params.count)).then((body) => res.status(201).json(body), next);
  });
  app.post('/miscount', function miscountRoute(_req: Request, res: Response, next: NextFunction) {
    service.miscount().then((body) => res.json(body), next);
  });
  app.use(ex.entitlementErrorHandler());
  return app;
}

function koaApp(Make: typeof Koa, service: CampaignService, entitlements: Entitlements): App {
  const app = new Make();
  app.silent = true;
  app.use(ko.entitlementErrorHandler());
  // An async resolver (as a session lookup would be); the Express apps use a sync one.
  app.use(
    ko.stigg({
      entitlements,
      customer: async (ctx: Context) => ctx.get('x-customer') || undefined,
      resource: (ctx: Context) => ctx.get('x-site') || undefined,
    }),
  );
  app.use(async function launchRoute(ctx: Context, next) {
    if (ctx.path === '/miscount') {
      ctx.body = await service.miscount();
      return;
    }
    const match = /^\/campaigns\/(\d+)$/.exec(ctx.path);
    if (ctx.method !== 'POST' || !match) return next();
    ctx.status = 201;
    ctx.body = await service.launch(Number(match[1]));
  });
  return app.callback();
}

const frameworks: Array<[string, (service: CampaignService, entitlements: Entitlements) => App]> = [
  ['express 5', (s, e) => expressApp(express5, s, e)],
  ['express 4', (s, e) => expressApp(express4, s, e)],
  ['koa 3', (s, e) => koaApp(Koa, s, e)],
  ['koa 2', (s, e) => koaApp(Koa2, s, e)],
];

const rig = forSuite(() => startRig());
afterEach(async () => {
  await rig.next();
});

describe.each(frameworks)('%s: a decorated service called from a route', (_name, makeApp) => {
  test('takes the customer from the request: grants and reports, then renders the denial as problem+json 402', async () => {
    const service = new CampaignService();
    const app = makeApp(service, rig.entitlements);

    const granted = await request(app).post('/campaigns/3').set('x-customer', 'c-basic');
    expect(granted.status).toBe(201);
    expect(granted.body).toEqual({ launched: 3 });

    const denied = await request(app).post('/campaigns/2').set('x-customer', 'c-basic');
    expect(denied.status).toBe(402);
    expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(denied.body).toMatchObject({
      status: 402,
      featureId: CAMPAIGNS,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      requestedUsage: 2,
      usageLimit: 4,
    });
    expect(JSON.stringify(denied.body)).not.toContain(rig.emulator.apiKey);

    // Another customer's request at the same time is checked against its own plan.
    const other = await request(app).post('/campaigns/2').set('x-customer', 'c-basic-2');
    expect(other.status).toBe(201);

    expect(service.runs).toEqual([3, 2]);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(3);
    expect(await rig.reported('c-basic-2', CAMPAIGNS)).toBe(2);
  });

  test('the resource comes from the request context too', async () => {
    const service = new CampaignService();
    const app = makeApp(service, rig.entitlements);
    const granted = await request(app).post('/campaigns/2').set('x-customer', 'c-sites').set('x-site', 'site-1');
    expect(granted.status).toBe(201);
    const otherSite = await request(app).post('/campaigns/2').set('x-customer', 'c-sites').set('x-site', 'site-2');
    expect(otherSite.status).toBe(403);
    expect(otherSite.body).toMatchObject({ accessDeniedReason: 'CustomerResourceNotFound' });
    expect(service.runs).toEqual([2]);
    expect(await rig.reported('c-sites', CAMPAIGNS, 'site-1')).toBe(2);
  });

  test('a reported usage the app computed wrongly is a 500 for the framework, not a 400 blaming the client', async () => {
    const service = new CampaignService();
    const response = await request(makeApp(service, rig.entitlements)).post('/miscount').set('x-customer', 'c-growth');
    expect(response.status).toBe(500);
    expect(response.headers['content-type'] ?? '').not.toMatch(/problem\+json/);
    expect(rig.emulator.stats().usage).toEqual({});
  });

  test('a request without a customer fails with 401 and the service body never runs', async () => {
    const service = new CampaignService();
    const response = await request(makeApp(service, rig.entitlements)).post('/campaigns/1');
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 401, title: 'No customer', featureId: CAMPAIGNS });
    expect(service.runs).toEqual([]);
    expect((rig.emulator.stats().operations.entitlement ?? 0) + (rig.emulator.stats().operations.entitlementsState ?? 0)).toBe(0);
  });
});

describe.each(frameworks)('%s: ids from the request context are checked too', (_name, makeApp) => {
  test.each([
    ['U+00A0', '\u00a0'],
    ['one character too long', 'c'.repeat(MAX_ID_LENGTH + 1)],
  ])('a customer id that is %s answers 401 problem+json; the service never runs', async (_label, id) => {
    const service = new CampaignService();
    const response = await request(makeApp(service, rig.entitlements)).post('/campaigns/1').set('x-customer', id);
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 401, type: 'urn:stigg-gate:problem:invalid-customer-id', title: 'Invalid customer id' });
    expect(service.runs).toEqual([]);
    expect(rig.emulator.stats().requests).toBe(0);
  });
});

describe.each([
  ['koa 3', Koa],
  ['koa 2', Koa2],
] as const)('%s without entitlementErrorHandler (13.12)', (_name, Make) => {
  test("Koa's default handler shows the denial's message with its status and prints no stack", async () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const service = new CampaignService();
      const app = new Make();
      app.use(ko.stigg({ entitlements: rig.entitlements, customer: (ctx: Context) => ctx.get('x-customer') || undefined }));
      app.use(async function launchRoute(ctx: Context) {
        ctx.body = await service.launch(Number(ctx.path.slice(1)));
      });
      const denied = await request(app.callback()).post('/9').set('x-customer', 'c-basic');
      expect(denied.status).toBe(402);
      expect(denied.text).toContain(`"${CAMPAIGNS}"`);
      const missing = await request(app.callback()).post('/1');
      expect(missing.status).toBe(401);
      expect(missing.text).toContain('No customer');
      expect(printed).not.toHaveBeenCalled();
      expect(service.runs).toEqual([]);
    } finally {
      printed.mockRestore();
    }
  });
});
