import 'reflect-metadata';
import http from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { RequireFeature, withCustomer } from '../../src/decorators';
import { EntitlementsClosedError } from '../../src/core/errors';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import * as ex from '../../src/middleware/express';
import { CUSTOMER_HEADER, adapters, close } from './harness';
import { forSuite, onFirstUse } from '../support/suite';

// After entitlements.close() (a process shutting down), a gated request answers 503 problem+json
// with Retry-After on every adapter and through the decorators: never a 500 or an HTML error page.

const TEMPLATES = 'feature-01-templates';
const PROBLEM = /^application\/problem\+json/;

const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'cust-basic', subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));
beforeEach(() => emu.reset());

function expectClosedProblem(response: request.Response, featureId: string): void {
  expect(response.status).toBe(503);
  expect(response.headers['content-type']).toMatch(PROBLEM);
  expect(response.headers['retry-after']).toBe('7');
  expect(response.body).toEqual({
    type: 'urn:stigg-gate:problem:entitlements-closed',
    title: 'Shutting down',
    status: 503,
    detail: `Feature "${featureId}" is no longer checked here: this server is shutting down; try again in 7s.`,
    featureId,
  });
}

describe.each(adapters)('$name: a gated request after close()', (adapter) => {
  let entitlements: Entitlements;
  let server: http.Server;
  afterEach(async () => {
    await close(server);
  });

  const variants: Array<[string, boolean]> = [
    ['with', true],
    ['without', false],
  ];
  // Nest without StiggExceptionFilter (useExceptionFilter: false) leaves its problems to the app's own filters (docs/nest.md).
  it.each(variants.filter(([, errorHandler]) => errorHandler || adapter.kind !== 'nest'))(
    'answers 503 problem+json with Retry-After (%s entitlementErrorHandler), and the handler does not run',
    async (_with, errorHandler) => {
      entitlements = createEntitlements({ client, retryAfterSeconds: 7 });
      const built = adapter.build({
        entitlements,
        errorHandler,
        routes: [{ method: 'post', path: '/templates', gates: [{ featureId: TEMPLATES, usage: 1 }] }],
      });
      server = built.server;
      await request(server).post('/templates').set(CUSTOMER_HEADER, 'cust-basic').expect(200);
      await entitlements.close();
      const after = await request(server).post('/templates').set(CUSTOMER_HEADER, 'cust-basic');
      expectClosedProblem(after, TEMPLATES);
      expect(built.runs.get('/templates')).toBe(1);
      expect(built.errors).toEqual([]);
    },
  );
});

class TemplateService {
  runs = 0;

  @RequireFeature(TEMPLATES, 1)
  async create(): Promise<{ created: true }> {
    this.runs += 1;
    return { created: true };
  }
}

describe('decorators: a decorated method called after close()', () => {
  it('throws EntitlementsClosedError, which entitlementErrorHandler() renders as 503 problem+json', async () => {
    const entitlements = createEntitlements({ client, retryAfterSeconds: 7 });
    const service = new TemplateService();
    const app = express();
    app.use(ex.stigg({ entitlements, customer: (req) => req.get(CUSTOMER_HEADER) }));
    app.post('/templates', function createRoute(_req: Request, res: Response, next: NextFunction) {
      service.create().then((body) => res.status(201).json(body), next);
    });
    app.use(ex.entitlementErrorHandler());
    await request(app).post('/templates').set(CUSTOMER_HEADER, 'cust-basic').expect(201);
    await entitlements.close();
    const after = await request(app).post('/templates').set(CUSTOMER_HEADER, 'cust-basic');
    expectClosedProblem(after, TEMPLATES);
    expect(service.runs).toBe(1);
    // Outside a request (a job): the typed error, with what a renderer needs.
    const outside = withCustomer({ entitlements, customerId: 'cust-basic' }, () => service.create());
    await expect(outside).rejects.toBeInstanceOf(EntitlementsClosedError);
    await expect(outside).rejects.toMatchObject({ status: 503, featureId: TEMPLATES, retryAfterSeconds: 7 });
  });
});
