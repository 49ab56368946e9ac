import http from 'node:http';
import express from 'express';
import type Redis from 'ioredis';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Store, UsageOverrun } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import * as ex from '../../src/middleware/express';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from '../redis/helpers';
import { close, deferred, listen } from './harness';
import { rawPost } from './hangup';

// Issue 23, adversarial pass (once the repro abandoned-slow-handler-past-limit): a
// lease whose client left mid-work is no longer renewed (so a handler that gives up with its client
// does not lock the customer out until reservationMaxMs), and lapses after reservationTtlMs. A
// handler that does NOT stop with its client and works past that commits after its room was
// granted to others: limit 3, three hang-ups on slow handlers, three ordinary requests granted once
// the reservations lapsed, then the slow handlers answer. All 6 units are reported (no free work);
// the limit is passed by 3, and each commit that takes the usage past it is signalled with
// 'usage:overrun' (before: none, each commit reporting exactly its reservation).

const TEMPLATES = 'feature-01-templates'; // 3 a month on plan-revvenu-basic
const CUSTOMER = 'cust-slow';
const TTL_MS = 1_000;
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

requireRedis();

let emu: Emulator;
let redis: Redis;
const prefix = uniquePrefix();
beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
  redis = await connectRedis();
});
beforeEach(() => emu.reset());
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await emu.stop();
});

const stores: Array<[string, () => Store | undefined]> = [
  ['the memory store', () => undefined],
  ['a Redis store', () => new RedisStore({ redis, prefix, nearCacheMs: 0 })],
];

test.each(stores)(
  '%s: slow handlers abandoned by their clients commit after their reservations lapsed: every unit reported, each one past the limit signalled',
  async (_name, store) => {
    const entitlements = createEntitlements({
      client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }),
      reservationTtlMs: TTL_MS,
      store: store(),
    });
    const overruns: UsageOverrun[] = [];
    entitlements.on('usage:overrun', (overrun) => overruns.push(overrun));
    const started = [deferred(), deferred(), deferred()];
    const answered: Array<Promise<void>> = [];
    const finish = deferred();
    let slow = 0;
    const app = express();
    app.use(ex.stigg({ entitlements, customer: () => CUSTOMER }));
    app.post('/work', ex.requireFeature(TEMPLATES, 1), (req, res) => {
      if (req.headers['x-slow'] === undefined) {
        res.json({ ok: true });
        return;
      }
      const done = deferred();
      answered.push(done.promise);
      started[slow++]?.resolve();
      // The work goes on without the client, past its reservation's lapse, and answers the gone response.
      void finish.promise.then(() => {
        res.json({ ok: true });
        done.resolve();
      });
    });
    const server = http.createServer(app);
    await listen(server);
    try {
      for (let i = 0; i < 3; i += 1) {
        const raw = await rawPost(server, '/work', { 'x-slow': '1' });
        await started[i]?.promise;
        await raw.leave();
      }
      // Refused while the three reservations live, granted once they lapsed (a generous bound: a busy machine).
      let granted = 0;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && granted < 3) {
        const { status } = await request(server).post('/work');
        if (status === 200) granted += 1;
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(granted).toBe(3);
      expect(overruns).toEqual([]);
      finish.resolve();
      await Promise.all(answered);
      await entitlements.flush();
      // The overrun is judged once the commit is in the store (a Redis round trip later).
      const judged = Date.now() + 10_000;
      while (overruns.length < 3 && Date.now() < judged) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`]).toBe(6);
      // One per commit past the limit; the usage read once it is in the store (the memory store: 4, 5, 6;
      // Redis: read after the three landed, so 6 each time).
      expect(overruns).toHaveLength(3);
      for (const { actualUnits, usage, usageLimit } of overruns) {
        expect({ actualUnits, usageLimit }).toEqual({ actualUnits: 1, usageLimit: 3 });
        expect(usage).toBeGreaterThan(3);
        expect(usage).toBeLessThanOrEqual(6);
      }
      expect(Math.max(...overruns.map(({ usage }) => usage))).toBe(6);
      expect(overruns.every(({ decision }) => decision.customerId === CUSTOMER && decision.featureId === TEMPLATES)).toBe(true);
    } finally {
      await entitlements.close();
      await close(server);
    }
  },
  40_000,
);
