import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import * as ex from '../../src/middleware/express';
import { close, listen } from './harness';
import { forSuite, onFirstUse } from '../support/suite';
import { sleep } from '../support/time';

// Adversarial pass 4 on issue 23 ("committed when the handler completed its response, whether or not
// the client read it"): a handler that ended its response and then settled (res.end(body); await <the
// usage>; decision.settle(actual)) was billed by how fast its client read: the Node host learned of the
// end at 'close', once the body was flushed. Measured: fast reader 5 (the reservation), slow reader 1.
// Now program order decides: a settle() after the handler ended the response is late for both (5 each,
// and a warning); docs/usage.md says to settle before ending the response.

const TEMPLATES = 'feature-01-templates'; // essentials plan: limit 10
const ids = ['read-fast', 'read-slow'];
const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: ids.map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-essentials' }] })) },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }));

test("a settle after res.end(): the same units whatever the client's reading speed (the response settled it)", async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const app = express();
  app.use(ex.stigg({ entitlements, customer: (req) => req.header('x-customer') }));
  const body = 'x'.repeat(4_000_000);
  app.get('/report', ex.requireFeature(TEMPLATES, 5), async (_req, res) => {
    res.end(body);
    await sleep(150); // the actual usage is known a moment after the answer was handed over
    res.locals.entitlement?.settle?.(1);
  });
  const server = http.createServer(app);
  const url = new URL(await listen(server));
  try {
    for (const id of ids) {
      const socket = net.connect(Number(url.port), url.hostname);
      socket.write(`GET /report HTTP/1.1\r\nHost: x\r\nx-customer: ${id}\r\nConnection: close\r\n\r\n`);
      if (id === 'read-slow') {
        socket.pause();
        await sleep(600);
        socket.resume();
      }
      await new Promise((resolve) => {
        socket.on('data', () => {});
        socket.on('close', resolve);
      });
    }
    await sleep(200);
    await entitlements.flush();
    const billed = Object.fromEntries(ids.map((id) => [id, emu.stats().usage[`${id}||${TEMPLATES}`] ?? 0]));
    expect(billed).toEqual({ 'read-fast': 5, 'read-slow': 5 });
  } finally {
    await entitlements.close();
    await close(server);
  }
});
