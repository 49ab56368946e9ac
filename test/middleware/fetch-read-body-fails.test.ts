import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import * as ho from '../../src/middleware/hono';
import { close, listen } from './harness';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass 4 on issue 23 ("released when the handler failed"). A Hono handler that returns a
// Response whose body it already read (logged it, say): the Fetch host's body watch could not take a
// reader of it and threw after the handler returned, before any settlement, so the grant was never
// settled: the client got a 500 and the units stayed held (renewed up to reservationMaxMs, an hour).
// Measured (limit 3): 500, 500, 500, then 402 for the fourth, 0 counted: the customer locked out by
// answers that all failed. Such a body is now a failed answer (released), as in settleAround's catch.

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'read-body', subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }));

function status(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve('cut off'));
      })
      .on('error', () => resolve('no answer'));
  });
}

test('hono on node: a Response whose body the handler already read fails, and releases its units', async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const app = new Hono();
  app.use(ho.stigg({ entitlements, customer: () => 'read-body' }));
  app.get('/logged', ho.requireFeature(TEMPLATES, 1), async () => {
    const response = new Response(JSON.stringify({ rows: [] }), { headers: { 'content-type': 'application/json' } });
    await response.clone().text(); // fine: a clone
    await response.text(); // the mistake: the body itself was read
    return response;
  });
  app.get('/fine', ho.requireFeature(TEMPLATES, 1), (c) => c.json({ rows: [] }));
  const listener = getRequestListener(app.fetch);
  const server = http.createServer((req, res) => void listener(req, res));
  const url = await listen(server);
  const errors = jest.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const failed: Array<number | string> = [];
    for (let i = 0; i < 4; i += 1) failed.push(await status(`${url}/logged`));
    const fine: Array<number | string> = [];
    for (let i = 0; i < 4; i += 1) fine.push(await status(`${url}/fine`));
    await entitlements.flush();
    expect({ failed, fine, counted: emu.stats().usage[`read-body||${TEMPLATES}`] ?? 0 }).toEqual({
      failed: [500, 500, 500, 500],
      fine: [200, 200, 200, 402],
      counted: 3,
    });
  } finally {
    errors.mockRestore();
    await entitlements.close();
    await close(server);
  }
});
