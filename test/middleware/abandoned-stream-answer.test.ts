import http from 'node:http';
import { Readable, pipeline } from 'node:stream';
import express from 'express';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import * as ex from '../../src/middleware/express';
import { close, deferred, listen } from './harness';
import { rawPost, watched } from './hangup';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass on issue 23: a client leaves while the handler works, and the handler then answers
// with a stream (stream.pipeline(src, res), res.sendFile). Neither ends the abandoned response with
// res.end(): the settlement must still follow the work, not keep the reservation unsettled for good.

const TEMPLATES = 'feature-01-templates';
const CUSTOMER = 'cust-basic';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

let real: Entitlements;
let server: http.Server | undefined;
const emu = forSuite(() => startEmulator({ port: 0, catalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));
beforeEach(() => {
  emu.reset();
  real = createEntitlements({ client });
});
afterEach(async () => {
  await real.close();
  if (server?.listening) await close(server);
});

type Answer = (res: express.Response, done: () => void) => void;

const answers: Array<{ name: string; answer: Answer }> = [
  {
    name: 'stream.pipeline(source, res)',
    answer: (res, done) => {
      res.status(200).type('text/plain');
      pipeline(Readable.from(['a', 'b']), res, () => done());
    },
  },
  {
    name: 'res.sendFile',
    answer: (res, done) => res.sendFile(__filename, () => done()),
  },
];

test.each(answers)('client gone while the handler works, then it answers with $name: the work is reported', async ({ answer }) => {
  const { entitlements, settled } = watched(real);
  const started = deferred();
  const go = deferred();
  const answered = deferred();
  const app = express();
  app.use(ex.stigg({ entitlements, customer: (req) => String(req.headers['x-customer']) }));
  app.post('/work', ex.requireFeature(TEMPLATES, 1), (_req, res) => {
    started.resolve();
    void go.promise.then(() => answer(res, () => answered.resolve()));
  });
  server = http.createServer(app);
  await listen(server);
  const raw = await rawPost(server, '/work', { 'x-customer': CUSTOMER });
  await started.promise;
  await raw.leave();
  go.resolve();
  await answered.promise;
  // The default onAbort ('commit'): the work was done, the reservation is reported.
  expect(await settled()).toBe('commit');
  await real.flush();
  expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0).toBe(1);
});
