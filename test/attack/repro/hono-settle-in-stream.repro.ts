// Run: npx jest --testMatch '**/*.repro.ts' test/attack/repro/hono-settle-in-stream.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a test then.
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { StiggClient } from '../../../src/client';
import { createEntitlements } from '../../../src/core';
import type { Entitlements } from '../../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../../src/emulator';
import * as ho from '../../../src/middleware/hono';

// Adversarial pass on issue 23, Hono (unfixed): the streaming route of docs/usage.md (reserve
// max_tokens, settle the final usage frame) written with Hono's streaming helper, which returns the
// Response at once and writes the body afterwards. Under onAbort 'commit' (the default) the body is
// not watched and the reservation is committed when the handler returns, so the settle() from inside
// the stream comes too late: 10 reported for 2 used. Any other onAbort watches the body, and then
// the in-stream settle() wins (the workaround). A fix would watch bodies under 'commit' too, which
// the adapter avoids for its cost and because a body nobody reads would then never settle.

const CAMPAIGNS = 'feature-02-campaigns'; // 100 a month on plan-revvenu-growth
const CUSTOMER = 'cust-growth';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-growth' }] }] };

let emu: Emulator;
let real: Entitlements;
beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
  real = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }) });
});
afterEach(async () => {
  await real.close();
});

test.each([
  { onAbort: 'commit' as const, reported: 10, name: "Repro (unfixed): onAbort 'commit', settle() inside the stream is ignored" },
  { onAbort: () => 10, reported: 2, name: 'an onAbort function (the body is watched): settle() inside the stream wins' },
])('$name: a stream read to its end that settles 2 of 10 reserved reports $reported', async ({ onAbort, reported }) => {
  const app = new Hono();
  app.use(ho.stigg({ entitlements: real, customer: (c) => c.req.header('x-customer'), onAbort }));
  app.post('/chat', ho.requireFeature(CAMPAIGNS, 10), (c) => {
    const decision = c.var.entitlement;
    return stream(c, async (s) => {
      await s.write('token token ');
      decision?.settle?.(2); // the final usage frame
      await s.write('[DONE]');
    });
  });
  const response = await app.request('/chat', { method: 'POST', headers: { 'x-customer': CUSTOMER } });
  expect(await response.text()).toBe('token token [DONE]');
  await real.flush();
  expect(emu.stats().usage[`${CUSTOMER}||${CAMPAIGNS}`] ?? 0).toBe(reported);
});
