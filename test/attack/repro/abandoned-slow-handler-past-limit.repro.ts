// Run: npx jest --testMatch '**/*.repro.ts' -- test/attack/repro/abandoned-slow-handler-past-limit.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a test then.
import http from 'node:http';
import express from 'express';
import request from 'supertest';
import { StiggClient } from '../../../src/client';
import { createEntitlements } from '../../../src/core';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../../src/emulator';
import * as ex from '../../../src/middleware/express';
import { close, deferred, listen } from '../../middleware/harness';
import { rawPost } from '../../middleware/hangup';

// Adversarial pass on issue 23 (the price of the abandoned-lease fix, unfixed): a lease whose client
// left mid-work is no longer renewed, so it lapses after reservationTtlMs. A handler that does NOT
// stop with its client and works longer than reservationTtlMs (a long generation) then commits
// after its room was granted to others: limit 3, three hang-ups on a handler of 3 × TTL, then
// ordinary requests once the reservations lapsed: 6 pieces of work, all 6 reported (no free work),
// but the hard limit of 3 is passed by 3, and no 'usage:overrun' is emitted (each commit reports
// exactly its reservation). A fix might keep renewing an abandoned lease while its handler is still
// running (the adapter knows), or emit the overrun when a lapsed lease commits.

const TEMPLATES = 'feature-01-templates'; // 3 a month on plan-revvenu-basic
const CUSTOMER = 'cust-slow';
const TTL_MS = 1_000;
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
});
afterAll(() => emu.stop());

test('Repro (unfixed): slow handlers abandoned by their clients commit after their reservations lapsed: 6 units at a hard limit of 3, no overrun event', async () => {
  const entitlements = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }), reservationTtlMs: TTL_MS });
  let overruns = 0;
  entitlements.on('usage:overrun', () => (overruns += 1));
  const started = [deferred(), deferred(), deferred()];
  const answered: Array<Promise<void>> = [];
  let slow = 0;
  const app = express();
  app.use(ex.stigg({ entitlements, customer: () => CUSTOMER }));
  app.post('/work', ex.requireFeature(TEMPLATES, 1), (req, res) => {
    if (req.headers['x-slow'] === undefined) {
      res.json({ ok: true });
      return;
    }
    const done = deferred();
    answered.push(done.promise);
    started[slow++]?.resolve();
    // The work goes on without the client, for 3 × reservationTtlMs, and answers the gone response.
    setTimeout(() => {
      res.json({ ok: true });
      done.resolve();
    }, 3 * TTL_MS);
  });
  const server = http.createServer(app);
  await listen(server);
  try {
    for (let i = 0; i < 3; i += 1) {
      const raw = await rawPost(server, '/work', { 'x-slow': '1' });
      await started[i]?.promise;
      await raw.leave();
    }
    let granted = 0;
    const deadline = Date.now() + 2 * TTL_MS + 500;
    while (Date.now() < deadline && granted < 3) {
      const { status } = await request(server).post('/work');
      if (status === 200) granted += 1;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(answered);
    await entitlements.flush();
    expect(granted).toBeGreaterThan(0);
    expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`]).toBe(3 + granted);
    expect(overruns).toBe(0);
  } finally {
    await entitlements.close();
    await close(server);
  }
});
