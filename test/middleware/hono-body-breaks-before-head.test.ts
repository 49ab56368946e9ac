import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import * as ho from '../../src/middleware/hono';
import { close, listen } from './harness';
import { forSuite, onFirstUse } from '../support/suite';
import { sleep } from '../support/time';

// Adversarial pass 4 on issue 23 ("the handler failed ... its body stream broke before the response
// started: none"). @hono/node-server reads up to three chunks of a body before it writes the head; a
// body that breaks then is answered `500 Error: <message>` by the runtime, a failed answer. The host
// saw only a read that failed, which it took for a response cut off: onAbort (default 'commit')
// reported the reservation. Measured: 500 to the client, 1 unit counted (Express and Koa release such
// a body). The Hono host now asks the Node response whether the head went out.

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
const ids = ['hb-first', 'hb-second', 'hb-after'];
const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: ids.map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })) },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }));

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const bodies: Record<string, () => ReadableStream<Uint8Array>> = {
  // Breaks at its first read: nothing was ever sent.
  'hb-first': () =>
    new ReadableStream({
      pull(controller) {
        controller.error(new Error('the database went away'));
      },
    }),
  // One chunk ready, then breaks: the runtime still held the head (and the chunk).
  'hb-second': () =>
    new ReadableStream({
      start(controller) {
        controller.enqueue(bytes('{"rows":['));
      },
      pull(controller) {
        controller.error(new Error('the database went away'));
      },
    }),
  // Breaks 30 ms after its first chunk was sent: a response cut off, onAbort's.
  'hb-after': () => {
    let reads = 0;
    return new ReadableStream({
      async pull(controller) {
        reads += 1;
        if (reads === 1) controller.enqueue(bytes('{"rows":['));
        else {
          await sleep(30);
          controller.error(new Error('the database went away'));
        }
      },
    });
  },
};

function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
      res.on('aborted', () => resolve(`${res.statusCode} cut off`));
      res.on('error', () => resolve(`${res.statusCode} cut off`));
    });
    req.on('error', () => resolve('no answer'));
  });
}

test.each([
  ['hb-first', '500 Error: the database went away', 0],
  ['hb-second', '500 Error: the database went away', 0],
  ['hb-after', '200 cut off', 1],
])('hono on node, %s: the client gets %j, %d unit(s) counted', async (id, answer, units) => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const app = new Hono();
  app.use(ho.stigg({ entitlements, customer: () => id }));
  app.get('/rows', ho.requireFeature(TEMPLATES, 1), () => new Response(bodies[id]!(), { headers: { 'content-type': 'application/json' } }));
  const listener = getRequestListener(app.fetch);
  const server = http.createServer((req, res) => void listener(req, res));
  const url = await listen(server);
  const errors = jest.spyOn(console, 'error').mockImplementation(() => {}); // @hono/node-server logs the body's error
  try {
    const got = await get(`${url}/rows`);
    await sleep(50);
    await entitlements.flush();
    expect({ got, counted: emu.stats().usage[`${id}||${TEMPLATES}`] ?? 0 }).toEqual({ got: answer, counted: units });
  } finally {
    errors.mockRestore();
    await entitlements.close();
    await close(server);
  }
});
