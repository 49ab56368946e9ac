import { Hono } from 'hono';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements, Logger } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { requireFeature, stigg } from '../../src/middleware/hono';
import { forSuite } from '../support/suite';

// Where the runtime passes an execution context (Workers), a request that commits usage hands its
// delivery to waitUntil; the periodic flush is an hour away here, so only waitUntil can deliver.

const TEMPLATES = 'feature-01-templates';
let entitlements: Entitlements;
const errors: unknown[][] = [];
const logger: Logger = { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) };

const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: [{ id: 'cust-basic', subscriptions: [{ planId: 'plan-revvenu-basic' }] }],
    },
  }),
);
beforeEach(() => {
  emu.reset();
  errors.length = 0;
  entitlements = createEntitlements({
    client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }),
    usage: { flushIntervalMs: 3_600_000 },
  });
});
afterEach(async () => {
  await entitlements.close();
});

function app(engine: Entitlements = entitlements) {
  const hono = new Hono();
  hono.use(stigg({ entitlements: engine, customer: (c) => c.req.header('x-customer'), logger }));
  hono.post('/templates', requireFeature(TEMPLATES, 1), (c) => c.json({ ok: true }));
  hono.post('/templates-400', requireFeature(TEMPLATES, 1), (c) => c.json({ ok: false }, 400));
  hono.get('/free', (c) => c.json({ ok: true }));
  return hono;
}

function executionContext() {
  const waited: Array<Promise<unknown>> = [];
  return {
    waited,
    ctx: {
      waitUntil: (promise: Promise<unknown>) => void waited.push(promise),
      passThroughOnException: () => {},
      props: {},
    },
  };
}

function usage(): number {
  return emu.stats().usage[`cust-basic||${TEMPLATES}`] ?? 0;
}

test('a committed request hands a flush to waitUntil, which delivers its usage', async () => {
  const { waited, ctx } = executionContext();
  const res = await app().request('/templates', { method: 'POST', headers: { 'x-customer': 'cust-basic' } }, {}, ctx);
  expect(res.status).toBe(200);
  expect(waited).toHaveLength(1);
  expect(usage()).toBe(0);
  await Promise.all(waited);
  expect(usage()).toBe(1);
  expect(errors).toEqual([]);
});

test('a 4xx holds its request only until it is settled and delivers nothing; a denial and an ungated route hand nothing to waitUntil', async () => {
  let flushes = 0;
  const counting = Object.create(entitlements, {
    flush: { value: () => ((flushes += 1), entitlements.flush()) },
  }) as Entitlements;
  const hono = app(counting);
  const gated = executionContext();
  expect((await hono.request('/templates-400', { method: 'POST', headers: { 'x-customer': 'cust-basic' } }, {}, gated.ctx)).status).toBe(
    400,
  );
  // Held from before the handler ran (a Worker cancels a request whose client left unless waitUntil holds it).
  expect(gated.waited).toHaveLength(1);
  await Promise.all(gated.waited);
  expect(flushes).toBe(0);
  const { waited, ctx } = executionContext();
  expect((await hono.request('/templates', { method: 'POST', headers: { 'x-customer': 'cust-nobody' } }, {}, ctx)).status).toBe(403);
  expect((await hono.request('/free', {}, {}, ctx)).status).toBe(200);
  expect(waited).toEqual([]);
});

test('without an execution context (Node) the usage waits for the buffer and close()', async () => {
  const res = await app().request('/templates', { method: 'POST', headers: { 'x-customer': 'cust-basic' } });
  expect(res.status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(usage()).toBe(0);
  await entitlements.close();
  expect(usage()).toBe(1);
});

test('a flush that fails inside waitUntil is logged, and the usage stays queued', async () => {
  const { waited, ctx } = executionContext();
  const failing = Object.create(entitlements, {
    flush: { value: () => Promise.reject(new Error('Stigg down')) },
  }) as Entitlements;
  const hono = new Hono();
  hono.use(stigg({ entitlements: failing, customer: () => 'cust-basic', logger }));
  hono.post('/templates', requireFeature(TEMPLATES, 1), (c) => c.json({ ok: true }));
  expect((await hono.request('/templates', { method: 'POST' }, {}, ctx)).status).toBe(200);
  await Promise.all(waited);
  expect(errors).toHaveLength(1);
  expect(errors[0]![0]).toMatchObject({ featureId: TEMPLATES, error: new Error('Stigg down') });
  await entitlements.flush();
  expect(usage()).toBe(1);
});

test('a route that settles its units hands a flush to waitUntil too (issue 23)', async () => {
  const { waited, ctx } = executionContext();
  const hono = new Hono();
  hono.use(stigg({ entitlements, customer: (c) => c.req.header('x-customer'), logger }));
  hono.post('/templates', requireFeature(TEMPLATES, 1), (c) => {
    c.var.entitlement?.settle?.(2);
    return c.json({ ok: true });
  });
  const res = await hono.request('/templates', { method: 'POST', headers: { 'x-customer': 'cust-basic' } }, {}, ctx);
  expect(res.status).toBe(200);
  expect(waited).toHaveLength(1);
  await Promise.all(waited);
  expect(usage()).toBe(2);
});
