// Run: npx jest --testMatch '**/*.repro.ts' test/attack/repro/abandoned-handler-gives-up.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a test then.
import http from 'node:http';
import express from 'express';
import request from 'supertest';
import { StiggClient } from '../../../src/client';
import { createEntitlements } from '../../../src/core';
import type { Entitlements } from '../../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../../src/emulator';
import * as ex from '../../../src/middleware/express';
import { close, deferred, listen } from '../../middleware/harness';
import { rawPost } from '../../middleware/hangup';

// Adversarial pass on issue 23 (unfixed): a handler that stops its work when the client leaves (the
// cooperative cancellation an expensive route should do) never answers the gone response. Express
// cannot tell the settlement that the handler gave up, so the lease stays unsettled and its
// reservation is RENEWED until reservationMaxMs (1 h by default): three such hang-ups lock a customer
// with a limit of 3 out (402) for an hour, though no work was done and nothing is reported. Before
// issue 23 the hang-up released at once. (A bound: stop renewing an abandoned lease, so it lapses
// after reservationTtlMs; releasing at once would let the hang-up attack past the limit.)

const TEMPLATES = 'feature-01-templates'; // 3 a month on plan-revvenu-basic
const CUSTOMER = 'cust-basic';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

let emu: Emulator;
let real: Entitlements;
let server: http.Server;
beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
  real = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }) });
});
afterAll(async () => {
  await real.close();
  if (server.listening) await close(server);
  await emu.stop();
});

test('Repro (unfixed): 3 hang-ups on a handler that gives up leave a customer with a limit of 3 locked out (402), 0 units reported', async () => {
  const started = [deferred(), deferred(), deferred()];
  const gaveUp = [deferred(), deferred(), deferred()];
  let leaving = 0;
  const app = express();
  app.use(ex.stigg({ entitlements: real, customer: (req) => String(req.headers['x-customer']) }));
  app.post('/work', ex.requireFeature(TEMPLATES, 1), (req, res) => {
    if (req.headers['x-leaves'] === undefined) {
      res.json({ ok: true });
      return;
    }
    const i = leaving++;
    res.once('close', () => gaveUp[i]?.resolve()); // the client left: stop the work, answer nobody
    started[i]?.resolve();
  });
  server = http.createServer(app);
  await listen(server);
  for (let i = 0; i < 3; i += 1) {
    const raw = await rawPost(server, '/work', { 'x-customer': CUSTOMER, 'x-leaves': '1' });
    await started[i]?.promise;
    await raw.leave();
    await gaveUp[i]?.promise;
  }
  // No work was done, yet the units are still held: the next ordinary request is refused.
  await request(server).post('/work').set('x-customer', CUSTOMER).expect(402);
  await real.flush();
  expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0).toBe(0);
});
