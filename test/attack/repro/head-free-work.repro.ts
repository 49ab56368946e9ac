// Run: npx jest --testMatch '**/*.repro.ts' -- test/attack/repro/head-free-work.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a test then.
import type http from 'node:http';
import request from 'supertest';
import { StiggClient } from '../../../src/client';
import { createEntitlements, type Entitlements } from '../../../src/core';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../../src/emulator';
import { CUSTOMER_HEADER, adapters, close, type Adapter } from '../../middleware/harness';

// Adversarial pass on issue 23 ("work done equals units counted ... never past the limit"): HEAD.
// docs/usage.md: "HEAD is checked like the GET it mirrors and never consumes usage" (src/middleware/
// gate.ts checkOnly). But every framework answers HEAD by running the GET handler (Express and Koa
// routers, Fastify's exposeHeadRoutes, Hono), so the work of a metered GET route is done and nothing is
// reserved or reported: measured, limit 3 templates, 20 HEAD requests on a GET route reserving 1: the
// handler ran 20 times, Stigg counted 0, and an ordinary GET is still granted afterwards — on Express
// 4/5, Koa 2/3, Fastify 4/5, Hono and Next.js route handlers. A client can have a metered GET route's work done without limit.
// Hint (a design choice, hence a repro): meter HEAD like the GET whose handler it runs (reserve, commit
// on < 400), or answer HEAD on a metered route from the check alone without running the handler.

const TEMPLATES = 'feature-01-templates'; // 3 a month on plan-revvenu-basic
const CUSTOMER = 'cust-head';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

let emu: Emulator;
let client: StiggClient;
beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
  client = new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url });
});
afterAll(() => emu.stop());

describe.each(adapters)('$name', (adapter: Adapter) => {
  let entitlements: Entitlements;
  let server: http.Server | undefined;
  beforeEach(() => {
    emu.reset();
    entitlements = createEntitlements({ client });
  });
  afterEach(async () => {
    await entitlements.close();
    if (server?.listening) await close(server);
  });

  test('Repro (unfixed): 20 HEAD requests on a metered GET route at limit 3 run its handler 20 times; 0 units reported', async () => {
    const app = adapter.build({
      entitlements,
      routes: [{ method: 'get', path: '/report', gates: [{ featureId: TEMPLATES, usage: 1 }], handler: {} }],
    });
    server = app.server;
    for (let i = 0; i < 20; i += 1) await request(server).head('/report').set(CUSTOMER_HEADER, CUSTOMER).expect(200);
    await request(server).get('/report').set(CUSTOMER_HEADER, CUSTOMER).expect(200);
    await entitlements.flush();
    expect(app.runs.get('/report')).toBe(21);
    expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`]).toBe(1);
  });
});
