'use strict';
// What stigg-gate/otel adds to a warm check(), CPU ns per call (run `npm run build` first;
// `node --expose-gc bench/otel.js`): the same engine's check() with nothing listening, then with
// instrument() and the SDK (bench/telemetry.js) in each span mode, interleaved over rounds (median).
//   plain        no listener: the path without the peer
//   metrics      instrument({ withoutActiveSpan: 'none' }), no active span: counted only
//   activeSpan   a span active around the calls: one event on it per decision
//   shortSpan    no span active: a short span per decision (the default)
const path = require('node:path');
const { context, trace } = require('@opentelemetry/api');
const { StackContextManager } = require('@opentelemetry/sdk-trace');
const { telemetryProviders } = require('./telemetry');

const dist = path.join(__dirname, '..', 'dist', 'cjs');
const { createEntitlements } = require(path.join(dist, 'index.js'));
const { instrument } = require(path.join(dist, 'otel', 'index.js'));

const FEATURE = 'feature-04-analytics';
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const gc = typeof global.gc === 'function' ? global.gc : () => undefined;

const upstream = {
  async getEntitlement(query) {
    return {
      isGranted: true,
      hasUnlimitedUsage: false,
      usageLimit: null,
      feature: { refId: query.featureId, featureType: 'BOOLEAN', meterType: 'None' },
    };
  },
  async reportUsageBulk() {
    return [];
  },
};

async function engine(mode, telemetry) {
  const entitlements = createEntitlements({ client: upstream });
  await entitlements.check({ customerId: 'bench', featureId: FEATURE });
  if (mode !== 'plain') {
    instrument(entitlements, {
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
      withoutActiveSpan: mode === 'metrics' ? 'none' : 'span',
    });
  }
  return entitlements;
}

async function main() {
  const CALLS = 20_000;
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
  context.setGlobalContextManager(new StackContextManager().enable());
  const telemetry = telemetryProviders();
  const modes = ['plain', 'metrics', 'activeSpan', 'shortSpan'];
  const engines = {};
  for (const mode of modes) engines[mode] = await engine(mode, telemetry);
  const parent = telemetry.tracerProvider.getTracer('bench').startSpan('request');
  const parentContext = trace.setSpan(context.active(), parent);
  const input = { customerId: 'bench', featureId: FEATURE };
  const samples = Object.fromEntries(modes.map((mode) => [mode, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    for (const mode of modes) {
      const entitlements = engines[mode];
      gc();
      const run = () => {
        const started = process.cpuUsage();
        for (let i = 0; i < CALLS; i++) entitlements.check(input);
        const used = process.cpuUsage(started);
        return ((used.user + used.system) * 1000) / CALLS;
      };
      // A real request span gathers events; a fresh one each round keeps the event list from growing without end.
      const ns = mode === 'activeSpan' ? context.with(parentContext, run) : run();
      if (round > 0) samples[mode].push(ns); // round 0 is JIT warm-up
    }
  }
  parent.end();
  const perCallNs = Object.fromEntries(modes.map((mode) => [mode, Math.round(median(samples[mode]))]));
  await telemetry.shutdown();
  for (const entitlements of Object.values(engines)) await entitlements.close();
  return { otel: { perCallNs, addedNs: Object.fromEntries(modes.slice(1).map((mode) => [mode, perCallNs[mode] - perCallNs.plain])) } };
}

module.exports = { main };
if (require.main === module) {
  main().then(
    (result) => process.stdout.write(JSON.stringify(result, null, 2) + '\n'),
    (error) => {
      process.stderr.write(`${error.stack ?? error}\n`);
      process.exit(1);
    },
  );
}
