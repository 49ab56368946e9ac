import { Hono, type Context } from 'hono';
import { stream } from 'hono/streaming';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import * as ho from '../../src/middleware/hono';
import type { OnAbort } from '../../src/middleware/options';
import { forSuite } from '../support/suite';

// Issue 23 on the Fetch host: the streaming route of docs/usage.md (reserve max_tokens, settle the final
// usage frame from inside the stream) written with Hono's streaming helper, which returns the Response at
// once and writes the body afterwards. The body is watched under every onAbort, so the in-stream settle()
// wins; a body complete when the handler returned still settles without anyone reading it.

const CAMPAIGNS = 'feature-02-campaigns'; // 100 a month on plan-revvenu-growth
const CUSTOMER = 'cust-growth';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-growth' }] }] };

let real: Entitlements;
const emu = forSuite(() => startEmulator({ port: 0, catalog }));
beforeEach(() => {
  emu.reset();
  real = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }) });
});
afterEach(async () => {
  await real.close();
});

function reported(): number {
  return emu.stats().usage[`${CUSTOMER}||${CAMPAIGNS}`] ?? 0;
}

function chat(onAbort: OnAbort<Context> | undefined): Hono {
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
  app.post('/json', ho.requireFeature(CAMPAIGNS, 3), (c) => c.json({ ok: true }));
  return app;
}

test.each([
  { name: "onAbort 'commit' (the default)", onAbort: undefined },
  { name: "onAbort 'release'", onAbort: 'release' as const },
  { name: 'an onAbort function', onAbort: () => 10 },
])('$name: a stream read to its end that settles 2 of the 10 reserved reports 2', async ({ onAbort }) => {
  const response = await chat(onAbort).request('/chat', { method: 'POST', headers: { 'x-customer': CUSTOMER } });
  expect(await response.text()).toBe('token token [DONE]');
  await real.flush();
  expect(reported()).toBe(2);
});

test('a body complete when the handler returned is committed without anyone reading it', async () => {
  const response = await chat(undefined).request('/json', { method: 'POST', headers: { 'x-customer': CUSTOMER } });
  expect(response.status).toBe(200);
  // The read-ahead runs on promise jobs only: they are all done before the next turn of the event loop.
  await new Promise(setImmediate);
  await real.flush();
  expect(reported()).toBe(3);
  expect(await response.json()).toEqual({ ok: true }); // the body read ahead is still all there
});
