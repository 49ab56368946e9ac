import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Decision, Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import * as ex from '../../src/middleware/express';
import * as ho from '../../src/middleware/hono';
import { forSuite } from '../support/suite';

// Issue 26: two gates for one feature on one request (a router-level requireFeature and the route's own)
// reserve once. The later gate is let through on the earlier one's grant and reserves nothing more;
// the request reports the earlier gate's units once (docs/options.md).

const TEMPLATES = 'feature-01-templates'; // 3 a month on plan-revvenu-basic
const CUSTOMER = 'cust-basic';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

let entitlements: Entitlements;
const emu = forSuite(() => startEmulator({ port: 0, catalog }));
beforeEach(() => {
  emu.reset();
  entitlements = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }) });
});
afterEach(async () => {
  await entitlements.close();
});

function reported(): number {
  return emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0;
}

function expressServer(): http.Server {
  const app = express();
  app.use(ex.stigg({ entitlements, customer: (req) => req.get('x-customer') }));
  app.use('/templates', ex.requireFeature(TEMPLATES, 1));
  app.post('/templates', ex.requireFeature(TEMPLATES, 1), (_req, res) => {
    res.json({ remaining: res.locals.entitlement?.remaining, features: Object.keys(res.locals.entitlements ?? {}) });
  });
  return http.createServer(app);
}

function honoServer(): http.Server {
  const app = new Hono();
  app.use(ho.stigg({ entitlements, customer: (c) => c.req.header('x-customer') }));
  app.use('/templates', ho.requireFeature(TEMPLATES, 1));
  app.post('/templates', ho.requireFeature(TEMPLATES, 1), (c) => {
    const decision: Decision | undefined = c.var.entitlement;
    return c.json({ remaining: decision?.remaining, features: Object.keys(c.var.entitlements ?? {}) });
  });
  const listener = getRequestListener(app.fetch);
  return http.createServer((req, res) => void listener(req, res));
}

describe.each([
  ['Express', expressServer],
  ['Hono (node-server)', honoServer],
])('%s', (_name, build) => {
  test('a router-level and a route-level gate for one feature: 1 unit reserved and reported per request, 3 granted at limit 3', async () => {
    const server = build();
    try {
      for (let i = 0; i < 3; i += 1) {
        const res = await request(server).post('/templates').set('x-customer', CUSTOMER).expect(200);
        expect(res.body).toEqual({ remaining: 2 - i, features: [TEMPLATES] });
      }
      const denied = await request(server).post('/templates').set('x-customer', CUSTOMER).expect(402);
      expect(denied.body).toMatchObject({ accessDeniedReason: 'RequestedUsageExceedingLimit', currentUsage: 3, usageLimit: 3 });
      await entitlements.flush();
      expect(reported()).toBe(3);
    } finally {
      server.close();
    }
  });
});
