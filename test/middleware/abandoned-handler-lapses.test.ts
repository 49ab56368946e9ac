import http from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import * as ex from '../../src/middleware/express';
import * as fa from '../../src/middleware/fastify';
import { close, deferred, listen } from './harness';
import { rawPost } from './hangup';

// Issue 23, adversarial pass: a handler that stops its work when its client leaves (the cooperative
// cancellation an expensive route should do) and answers nobody. Express and Fastify cannot tell it
// from a handler still at work, so its reservation used to be RENEWED until reservationMaxMs (1 h):
// three such hang-ups locked a customer with a limit of 3 out (402) for an hour, with no work done
// and nothing reported. Now the lease is marked abandoned when its client leaves mid-work: it is no
// longer renewed and lapses after reservationTtlMs (here 1 s, renewed every 333 ms before), while a
// handler that does answer later still commits its units.

const TEMPLATES = 'feature-01-templates'; // 3 a month on plan-revvenu-basic
const catalog: Catalog = {
  ...defaultCatalog,
  customers: ['cust-express', 'cust-fastify', 'cust-late'].map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
};
const TTL_MS = 1_000;

let emu: Emulator;
let real: Entitlements;
beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
  real = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }), reservationTtlMs: TTL_MS });
});
afterAll(async () => {
  await real.close();
  await emu.stop();
});

const used = (customer: string): number => emu.stats().usage[`${customer}||${TEMPLATES}`] ?? 0;

/** The handler: answers at once, or (x-leaves) gives up when its client leaves and answers nobody. */
interface Work {
  started: Array<ReturnType<typeof deferred<void>>>;
  gaveUp: Array<ReturnType<typeof deferred<void>>>;
  next: number;
}

function work(): Work {
  return { started: [deferred(), deferred(), deferred()], gaveUp: [deferred(), deferred(), deferred()], next: 0 };
}

function onRequest(state: Work, leaves: boolean, res: http.ServerResponse, answer: () => void): void {
  if (!leaves) {
    answer();
    return;
  }
  const i = state.next++;
  res.once('close', () => state.gaveUp[i]?.resolve()); // the client left: stop the work, answer nobody
  state.started[i]?.resolve();
}

async function expressServer(state: Work): Promise<{ server: http.Server; stop: () => Promise<void> }> {
  const app = express();
  app.use(ex.stigg({ entitlements: real, customer: (req) => String(req.headers['x-customer']) }));
  app.post('/work', ex.requireFeature(TEMPLATES, 1), (req, res) => {
    onRequest(state, req.headers['x-leaves'] !== undefined, res, () => void res.json({ ok: true }));
  });
  const server = http.createServer(app);
  await listen(server);
  return { server, stop: () => close(server) };
}

async function fastifyServer(state: Work): Promise<{ server: http.Server; stop: () => Promise<void> }> {
  const app = Fastify();
  await app.register(fa.stiggPlugin, { entitlements: real, customer: (req) => String(req.headers['x-customer']) });
  app.post('/work', { preHandler: fa.requireFeature(TEMPLATES, 1) }, (req, reply) => {
    onRequest(state, req.headers['x-leaves'] !== undefined, reply.raw, () => void reply.send({ ok: true }));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { server: app.server, stop: () => app.close() };
}

/** Requests until one is granted; the statuses seen (a whole 15 s bound against a 1 s lapse). */
async function untilGranted(server: http.Server, customer: string): Promise<number[]> {
  const statuses: number[] = [];
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { status } = await request(server).post('/work').set('x-customer', customer);
    statuses.push(status);
    if (status !== 402) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return statuses;
}

test.each([
  ['Express', expressServer, 'cust-express'],
  ['Fastify', fastifyServer, 'cust-fastify'],
] as const)(
  '%s: 3 hang-ups on a handler that gives up lock a limit of 3 out for reservationTtlMs, not reservationMaxMs; 0 units for them',
  async (_name, start, customer) => {
    const state = work();
    const { server, stop } = await start(state);
    try {
      for (let i = 0; i < 3; i += 1) {
        const raw = await rawPost(server, '/work', { 'x-customer': customer, 'x-leaves': '1' });
        await state.started[i]?.promise;
        await raw.leave();
        await state.gaveUp[i]?.promise;
      }
      // Held while their reservations live (no work done, yet a hang-up must not buy room at once)…
      const statuses = await untilGranted(server, customer);
      // …then they lapse: the next request is served, and only its unit is reported.
      expect(statuses.at(-1)).toBe(200);
      await real.flush();
      expect(used(customer)).toBe(1);
    } finally {
      await stop();
    }
  },
);

test('a handler that answers after its client left and its reservation lapsed still reports its unit', async () => {
  const go = deferred();
  const started = deferred();
  const answered = deferred();
  const app = express();
  app.use(ex.stigg({ entitlements: real, customer: (req) => String(req.headers['x-customer']) }));
  app.post('/work', ex.requireFeature(TEMPLATES, 1), (_req, res) => {
    started.resolve();
    void go.promise.then(() => {
      res.json({ ok: true });
      answered.resolve();
    });
  });
  const server = http.createServer(app);
  await listen(server);
  try {
    const raw = await rawPost(server, '/work', { 'x-customer': 'cust-late' });
    await started.promise;
    await raw.leave();
    await new Promise((resolve) => setTimeout(resolve, 3 * TTL_MS));
    go.resolve();
    await answered.promise;
    await real.flush();
    expect(used('cust-late')).toBe(1);
  } finally {
    await close(server);
  }
});
