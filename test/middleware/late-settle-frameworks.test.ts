import http from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import request from 'supertest';
import * as ex from '../../src/middleware/express';
import * as fa from '../../src/middleware/fastify';
import * as ko from '../../src/middleware/koa';
import { TEMPLATES, lateSettleSuite } from './late-settle-suite';

/*
 * The rule (a settle() after the handler ended the Node response is ignored) and the cases that must not
 * be caught by it. Koa sets ctx.body and ends the response only after the middleware returns: a
 * settle() after `ctx.body = …` is honoured. A Fastify async handler settling before `return x` is
 * honoured. Express ending a 4xx and then settling: the reservation is released, never committed.
 */
const CUSTOMER = 'late-settle-fw';
const { emu, entitlements, warnings, logger } = lateSettleSuite(CUSTOMER);

async function counted(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  await entitlements.flush();
  return emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0;
}

test('koa: ctx.body then settle(1) before returning: 1 reported, no warning', async () => {
  const app = new Koa();
  app.use(ko.stigg({ entitlements, customer: () => CUSTOMER, logger }));
  app.use(ko.requireFeature(TEMPLATES, 5));
  app.use(async (ctx) => {
    ctx.body = { ok: true };
    await new Promise((resolve) => setTimeout(resolve, 10));
    ctx.state.entitlement?.settle?.(1);
  });
  await request(app.callback()).get('/').expect(200);
  expect(await counted()).toBe(1);
  expect(warnings.filter((w) => w.includes('came after'))).toEqual([]);
});

test('fastify async handler: settle(1) then `return x`: 1 reported', async () => {
  const app = Fastify();
  await app.register(fa.stiggPlugin, { entitlements, customer: () => CUSTOMER, logger });
  app.get('/t', { preHandler: fa.requireFeature(TEMPLATES, 5) }, async (req) => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    req.entitlement?.settle?.(1);
    return { ok: true };
  });
  await app.ready();
  try {
    await request(app.server).get('/t').expect(200);
    expect(await counted()).toBe(1);
    expect(warnings.filter((w) => w.includes('came after'))).toEqual([]);
  } finally {
    await app.close();
  }
});

test('express: res.status(422).json() then settle(3): released, nothing reported', async () => {
  const app = express();
  app.use(ex.stigg({ entitlements, customer: () => CUSTOMER, logger }));
  app.get('/t', ex.requireFeature(TEMPLATES, 5), (_req, res) => {
    res.status(422).json({ bad: true });
    res.locals.entitlement?.settle?.(3);
  });
  const before = (await entitlements.check({ customerId: CUSTOMER, featureId: TEMPLATES })).currentUsage ?? 0;
  await request(http.createServer(app)).get('/t').expect(422);
  expect(await counted()).toBe(0);
  // and the 5 reserved are free again: all the rest fits
  const lease = await entitlements.acquire({ customerId: CUSTOMER, featureId: TEMPLATES, requestedUsage: 10 - before });
  expect(lease.decision.granted).toBe(true);
  lease.release();
});

test('express: res.end() then settle(3) after an await (the response closed meanwhile): the 200 commits the reservation', async () => {
  const app = express();
  app.use(ex.stigg({ entitlements, customer: () => CUSTOMER, logger }));
  app.get('/t', ex.requireFeature(TEMPLATES, 5), async (_req, res) => {
    res.json({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 30));
    res.locals.entitlement?.settle?.(3);
  });
  await request(http.createServer(app)).get('/t').expect(200);
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(await counted()).toBe(5);
});
