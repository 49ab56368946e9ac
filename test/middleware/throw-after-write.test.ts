import http from 'node:http';
import Koa from 'koa';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import * as ko from '../../src/middleware/koa';
import { close, listen } from './harness';
import { watched } from './hangup';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass on issue 23 (one rule, the same units everywhere): a Koa handler that writes to
// ctx.res itself (server-sent events: ctx.respond = false) and then throws. Express and Fastify see a
// response cut off after it started and apply onAbort (default 'commit': 1 unit); Koa released it on
// the throw whatever onAbort said (0 units): free partial work, and not the unit the other adapters
// report. Koa now settles such a throw by what was sent, as they do.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Koa2 = require('koa2') as typeof Koa;

const TEMPLATES = 'feature-01-templates';
const CUSTOMER = 'cust-koa-sse';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

const emu = forSuite(() => startEmulator({ port: 0, catalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));

describe.each([
  ['koa 3', Koa],
  ['koa 2', Koa2],
])('%s', (_name, KoaApp) => {
  test.each([
    ['writes, then throws; onAbort commit', 'commit', false, 'commit', 1],
    ['writes, then throws; onAbort release', 'release', false, 'release', 0],
    ['writes and ends, then throws', 'release', true, 'commit', 1],
  ] as const)('%s', async (_case, onAbort, ends, outcome, units) => {
    emu.reset();
    const real = createEntitlements({ client });
    const { entitlements, settled } = watched(real);
    const app = new KoaApp();
    app.silent = true;
    app.use(ko.entitlementErrorHandler());
    app.use(ko.stigg({ entitlements, customer: () => CUSTOMER, onAbort }));
    const gate = ko.requireFeature(TEMPLATES, 1);
    app.use((ctx) =>
      gate(ctx, async () => {
        ctx.respond = false;
        ctx.res.writeHead(200, { 'content-type': 'text/event-stream' });
        ctx.res.write('data: first\n\n');
        if (ends) ctx.res.end('data: [DONE]\n\n');
        await Promise.resolve();
        throw new Error('the model stream failed');
      }),
    );
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback handles its own rejections
    const server = http.createServer(app.callback());
    await listen(server);
    try {
      const answer = request(server)
        .post('/chat')
        .then(
          () => undefined,
          () => undefined, // cut off by closeAllConnections below when the response stays open
        );
      const how = await settled();
      expect(how).toBe(outcome);
      server.closeAllConnections();
      await answer;
      await real.flush();
      expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0).toBe(units);
    } finally {
      await real.close();
      if (server.listening) await close(server);
    }
  });
});
