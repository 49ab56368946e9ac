'use strict';
// One metered server under test, in its own process: `node bench/metered-server.js <express|koa> <memory|redis> <apiUrl> <apiKey>`.
// Every request reserves 1 unit of a metered feature (requireFeature(FEATURE, 1)) for the next of
// CUSTOMERS customers in turn, and its usage is committed and delivered to the emulator: the path AI
// products and API meters live on. Prints `READY <port>` once every customer is warm; SIGUSR2 starts a
// measurement window; on SIGTERM it closes the engine (delivering what is pending, so delivery is in
// the window's cost) and prints `STATS {"requests","cpuUs","undelivered"}`.
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist', 'cjs');
const { METERED_FEATURE, meteredCustomers } = require('./metered-catalog.js');

const [, , framework, storeKind, apiUrl, apiKey] = process.argv;

async function main() {
  const { StiggClient, createEntitlements } = require(path.join(dist, 'index.js'));
  const client = new StiggClient({ apiKey, apiUrl });
  let store;
  if (storeKind === 'redis') {
    const { RedisStore } = require(path.join(dist, 'redis', 'index.js'));
    store = new RedisStore({
      redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      prefix: `stigg-gate-bench-metered:${process.pid}:`,
    });
  } else if (storeKind !== 'memory') throw new Error(`store must be memory or redis, got ${storeKind}`);
  const entitlements = createEntitlements({ client, ...(store ? { store } : {}) });
  let undelivered = 0;
  entitlements.on('usage:undelivered', (reports) => (undelivered += reports.length));
  const customers = meteredCustomers();
  for (const customerId of customers) {
    const warm = await entitlements.check({ customerId, featureId: METERED_FEATURE, requestedUsage: 1 });
    if (!warm.granted) throw new Error(`${customerId} is not entitled to ${METERED_FEATURE}: ${warm.accessDeniedReason}`);
  }
  let next = 0;
  const customer = () => customers[next++ % customers.length];
  let served = 0;
  let window = { requests: 0, cpu: process.cpuUsage() };
  process.on('SIGUSR2', () => {
    window = { requests: served, cpu: process.cpuUsage() };
  });

  let server;
  if (framework === 'express') {
    const express = require('express');
    const { stigg, requireFeature } = require(path.join(dist, 'middleware', 'express', 'index.js'));
    const app = express();
    app.use(stigg({ entitlements, customer }));
    app.get('/r', requireFeature(METERED_FEATURE, 1), (_req, res) => {
      served++;
      res.json({ ok: true });
    });
    server = app.listen(0, '127.0.0.1');
  } else if (framework === 'koa') {
    const Koa = require('koa');
    const { stigg, requireFeature } = require(path.join(dist, 'middleware', 'koa', 'index.js'));
    const app = new Koa();
    app.use(stigg({ entitlements, customer }));
    app.use(requireFeature(METERED_FEATURE, 1));
    app.use((ctx) => {
      served++;
      ctx.body = { ok: true };
    });
    server = app.listen(0, '127.0.0.1');
  } else throw new Error(`framework must be express or koa, got ${framework}`);
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  process.stdout.write(`READY ${server.address().port}\n`);
  process.on('SIGTERM', async () => {
    const requests = served - window.requests;
    server.close();
    await entitlements.close({ timeoutMs: 30_000 });
    const cpu = process.cpuUsage(window.cpu);
    if (store) await store.close();
    process.stdout.write(`STATS ${JSON.stringify({ requests, cpuUs: cpu.user + cpu.system, undelivered })}\n`);
    process.exit(0);
  });
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
