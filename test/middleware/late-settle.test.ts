import http from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import request from 'supertest';
import * as ex from '../../src/middleware/express';
import * as fa from '../../src/middleware/fastify';
import { TEMPLATES, lateSettleSuite } from './late-settle-suite';

// settle(units) before the response ends reports those units; once the handler ended the response
// (res.json, reply.send) it comes too late: the completed answer settled the request (the
// reservation), whatever the client's reading speed (test/middleware/settle-after-end.test.ts),
// and a warning says so once per feature.

const CUSTOMER = 'late-settle';
const { emu, entitlements, warnings, logger } = lateSettleSuite(CUSTOMER);

async function counted(): Promise<number> {
  await entitlements.flush();
  return emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0;
}

function expressApp(after: boolean): http.Server {
  const app = express();
  app.use(ex.stigg({ entitlements, customer: () => CUSTOMER, logger }));
  app.post('/t', ex.requireFeature(TEMPLATES, 5), (_req, res) => {
    const decision = res.locals.entitlement;
    if (!after) decision?.settle?.(1);
    res.json({ ok: true });
    if (after) decision?.settle?.(1);
  });
  return http.createServer(app);
}

describe('express', () => {
  test('settle(1) before res.json(): 1 reported', async () => {
    await request(expressApp(false)).post('/t').expect(200);
    expect(await counted()).toBe(1);
    expect(warnings.filter((w) => w.includes('came after'))).toEqual([]);
  });

  test('settle(1) after res.json(): the reservation (5) is reported and a warning says the count came too late', async () => {
    await request(expressApp(true)).post('/t').expect(200);
    expect(await counted()).toBe(5);
    expect(warnings.filter((w) => w.includes('came after the handler ended its response'))).toHaveLength(1);
  });
});

test('fastify: settle(1) after reply.send(): the reservation (5) is reported', async () => {
  const app = Fastify();
  await app.register(fa.stiggPlugin, { entitlements, customer: () => CUSTOMER, logger });
  app.post('/t', { preHandler: fa.requireFeature(TEMPLATES, 5) }, (req, reply) => {
    void reply.send({ ok: true });
    req.entitlement?.settle?.(1);
  });
  await app.ready();
  try {
    await request(app.server).post('/t').expect(200);
    expect(await counted()).toBe(5);
  } finally {
    await app.close();
  }
});
