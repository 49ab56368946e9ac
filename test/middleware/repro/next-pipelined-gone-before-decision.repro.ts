// Run: npx jest --testMatch '**/*.repro.ts' -- test/middleware/repro/next-pipelined-gone-before-decision.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a test then
// (drop Next from FETCH_HOSTS in test/middleware/pipelined-hang-up.test.ts).
import type http from 'node:http';
import { StiggClient } from '../../../src/client';
import { createEntitlements } from '../../../src/core';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../../src/emulator';
import { adapters, close, type Adapter } from '../harness';
import { TEMPLATES, goneBeforeDecision } from '../pipelined';

// Hono on Node is fixed (src/middleware/hono/index.ts watches c.env.incoming.socket; its row is in
// test/middleware/pipelined-hang-up.test.ts); Next.js route handlers, which get a Request and no connection, remain.
// Adversarial pass on issue 23 ("a client that leaves before the decision still releases, and the
// handler never runs"), the Fetch hosts on Node (Hono through @hono/node-server, Next.js route
// handlers): two requests pipelined on one keep-alive connection, the client hangs up while the second
// is being decided. Express, Koa and Fastify release it and never run its handler; Hono and Next run
// the handler and commit it: measured 2 handler runs, 2 units
// reported, for 1 answer the client could read. No free work (what ran is reported), but the client is
// billed for work done after it left. Cause: the request's AbortSignal of @hono/node-server follows the
// http.ServerResponse's 'close' (Next's likewise), which Node never emits for a response queued behind an earlier one
// of its connection (see watch()/queuedOn() in src/middleware/settle.ts, the Node hosts' fix). Hint:
// the Node entry of the Hono adapter (or the fetch host) could also treat the request's socket closing
// (c.env.incoming.socket) as the client gone.

const CUSTOMER = 'cust-pipelined-hono';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
});
afterAll(() => emu.stop());

describe.each(adapters.filter((adapter) => adapter.kind === 'next'))('$name', (adapter: Adapter) => {
  test('Repro (unfixed): a Fetch host on Node runs and reports a pipelined request whose client left before its decision', async () => {
    emu.reset();
    const real = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }) });
    const servers: http.Server[] = [];
    try {
      const { outcomes, runs } = await goneBeforeDecision(adapter, real, CUSTOMER, (server) => servers.push(server));
      expect(outcomes).toEqual(['commit', 'commit']);
      expect(runs).toBe(2);
      expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`]).toBe(2);
    } finally {
      await real.close();
      await Promise.all(servers.filter((server) => server.listening).map(close));
    }
  });
});
