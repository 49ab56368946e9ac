import fs from 'node:fs';
import http from 'node:http';
import Koa3 from 'koa';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import * as ko from '../../src/middleware/koa';
import { forSuite } from '../support/suite';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Koa2 = require('koa2') as typeof Koa3;

// Adversarial pass on issue 23, Koa: ctx.body = a stream that fails before its first byte (a file
// that does not exist). Nothing started: the answer failed, so the reservation goes back, whatever
// onAbort says of streams cut off. Koa 2 answered 404 and the unit was still reported (1 of 0), as
// the body's 'error' went to onAbort ('commit'); Koa 3 destroys the response (the client sees a
// hang-up), reported too.

const TEMPLATES = 'feature-01-templates';
const CUSTOMER = 'cust-basic';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

let real: Entitlements;
const emu = forSuite(() => startEmulator({ port: 0, catalog }));
beforeEach(() => {
  emu.reset();
  real = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }) });
});
afterEach(async () => {
  await real.close();
});

test.each([
  { name: 'koa 2', Koa: Koa2, answer: '404' },
  { name: 'koa 3', Koa: Koa3, answer: 'hang-up' },
])('$name: a body stream failing before the response started ($answer): nothing is reported', async ({ Koa, answer }) => {
  const app = new Koa();
  app.silent = true;
  app.use(ko.stigg({ entitlements: real, customer: (ctx) => ctx.get('x-customer') }));
  app.use(ko.requireFeature(TEMPLATES, 1));
  app.use((ctx) => {
    ctx.type = 'text/plain';
    ctx.body = fs.createReadStream('/nonexistent/stigg-gate-attack');
  });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback handles its own rejections
  const server = http.createServer(app.callback());
  const got = await request(server)
    .get('/')
    .set('x-customer', CUSTOMER)
    .then(
      (res) => String(res.status),
      () => 'hang-up',
    );
  expect(got).toBe(answer);
  await real.flush();
  expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0).toBe(0);
});
