'use strict';
// One server under test, in its own process: `node bench/server.js <express|koa|fastify|hono> <variant> <apiUrl> <apiKey> <customerId>`.
// Variants: ungated; floor (one async middleware doing a Map lookup and a comparison); gated
// (requireFeature on a boolean feature, memory store, warm cache); gated-redis (same, RedisStore);
// gated-checks-denied / gated-checks-all (gated, with reportChecks 'denied' / 'all': every granted request is
// reported, and past 2,000 waiting dropped and counted); bare-floor (the floor in a process that did
// nothing else); otel-floor and otel-gated (Express only: floor and gated under a span per request, as HTTP
// instrumentation makes; otel-gated instrument()ed). Every variant but bare-floor boots the same process: all
// entitlements instances (memory, Redis, and the two reporting ones) created and warm, so that only the route differs. Why:
// docs/benchmarks.md ("Same process, different route").
// Prints `READY <port>` once warm. SIGUSR2 starts a measurement window; on SIGTERM it prints
// `STATS {"requests","cpuUs"}` for that window: server CPU per request is far steadier than
// throughput on a shared machine.
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist', 'cjs');

const [, , framework, variant, apiUrl, apiKey, customerId] = process.argv;
const FEATURE = 'feature-04-analytics';

async function main() {
  const { StiggClient, createEntitlements } = require(path.join(dist, 'index.js'));
  let entitlements;
  let store;
  let telemetry;
  const booted = [];
  if (variant !== 'bare-floor') {
    const { RedisStore } = require(path.join(dist, 'redis', 'index.js'));
    store = new RedisStore({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `stigg-gate-bench:${process.pid}:` });
    const client = new StiggClient({ apiKey, apiUrl });
    const memory = createEntitlements({ client });
    const redis = createEntitlements({ client, store });
    const checksDenied = createEntitlements({ client, reportChecks: 'denied' });
    const checksAll = createEntitlements({ client, reportChecks: 'all' });
    for (const instance of [memory, redis, checksDenied, checksAll]) {
      const warm = await instance.check({ customerId, featureId: FEATURE });
      if (!warm.granted) throw new Error(`bench customer is not entitled to ${FEATURE}: ${warm.accessDeniedReason}`);
      booted.push(instance);
    }
    entitlements = { 'gated-redis': redis, 'gated-checks-denied': checksDenied, 'gated-checks-all': checksAll }[variant] ?? memory;
    // The OpenTelemetry SDK runs in every booted variant (its timers, its modules): only otel-* use it.
    telemetry = require('./telemetry.js').telemetryProviders();
    booted.push(telemetry);
    if (variant === 'otel-gated') {
      const { instrument } = require(path.join(dist, 'otel', 'index.js'));
      instrument(memory, { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider });
    }
  }
  if (variant.startsWith('otel-') && framework !== 'express') throw new Error(`${variant} is measured on Express only`);
  let served = 0;
  let window = { requests: 0, cpu: process.cpuUsage() };
  process.on('SIGUSR2', () => {
    window = { requests: served, cpu: process.cpuUsage() };
  });
  const floorMap = new Map([[`${customerId}:${FEATURE}`, { limit: 1e9, used: 0 }]]);

  let server;
  if (framework === 'express') {
    const express = require('express');
    const app = express();
    const handler = (_req, res) => {
      served++;
      res.json({ ok: true });
    };
    if (variant.startsWith('otel-')) app.use(requestSpans(telemetry.tracerProvider.getTracer('http')));
    if (variant === 'ungated') app.get('/r', handler);
    else if (variant.endsWith('floor')) {
      app.get(
        '/r',
        async function floor(req, res, next) {
          const entry = floorMap.get(`${req.headers['x-customer']}:${FEATURE}`);
          if (entry === undefined || entry.used + 0 > entry.limit) {
            res.status(402).end();
            return;
          }
          next();
        },
        handler,
      );
    } else {
      const { stigg, requireFeature } = require(path.join(dist, 'middleware', 'express', 'index.js'));
      app.use(stigg({ entitlements, customer: (req) => req.headers['x-customer'] }));
      app.get('/r', requireFeature(FEATURE), handler);
    }
    server = app.listen(0, '127.0.0.1');
  } else if (framework === 'fastify') {
    server = await require('./frameworks.js').fastifyServer({ variant, dist, entitlements, FEATURE, floorMap, onServed: () => served++ });
  } else if (framework === 'hono') {
    server = await require('./frameworks.js').honoServer({ variant, dist, entitlements, FEATURE, floorMap, onServed: () => served++ });
  } else {
    const Koa = require('koa');
    const app = new Koa();
    const handler = (ctx) => {
      served++;
      ctx.body = { ok: true };
    };
    if (variant === 'ungated') app.use(handler);
    else if (variant.endsWith('floor')) {
      app.use(async function floor(ctx, next) {
        const entry = floorMap.get(`${ctx.get('x-customer')}:${FEATURE}`);
        if (entry === undefined || entry.used + 0 > entry.limit) {
          ctx.status = 402;
          return;
        }
        await next();
      });
      app.use(handler);
    } else {
      const { stigg, requireFeature } = require(path.join(dist, 'middleware', 'koa', 'index.js'));
      app.use(stigg({ entitlements, customer: (ctx) => ctx.get('x-customer') || undefined }));
      app.use(requireFeature(FEATURE));
      app.use(handler);
    }
    server = app.listen(0, '127.0.0.1');
  }
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  process.stdout.write(`READY ${server.address().port}\n`);
  process.on('SIGTERM', async () => {
    const cpu = process.cpuUsage(window.cpu);
    process.stdout.write(`STATS ${JSON.stringify({ requests: served - window.requests, cpuUs: cpu.user + cpu.system })}\n`);
    server.close();
    for (const instance of booted) await (instance.close ? instance.close() : instance.shutdown());
    if (store) await store.close();
    process.exit(0);
  });
}

/**
 * What HTTP instrumentation does for the otel-* variants: a span per request, active while the
 * (synchronous, warm) middleware chain runs, ended when the response is. The context manager is
 * the SDK's StackContextManager: enough for a chain that does not await.
 */
function requestSpans(tracer) {
  const { context, trace, ROOT_CONTEXT } = require('@opentelemetry/api');
  const { StackContextManager } = require('@opentelemetry/sdk-trace');
  context.setGlobalContextManager(new StackContextManager().enable());
  return function requestSpan(_req, res, next) {
    const span = tracer.startSpan('GET /r');
    res.once('finish', () => span.end());
    context.with(trace.setSpan(ROOT_CONTEXT, span), next);
  };
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
