'use strict';
// The NestJS row: a warm granted route behind StiggGuard + StiggInterceptor next to the same route
// ungated, on @nestjs/platform-express and @nestjs/platform-fastify, measured side by side in one run
// (variants interleaved per round, ratios paired within a round, median over rounds; see http.js).
//   node bench/nest.js                      the comparison (also part of `npm run bench`)
//   node bench/nest.js server <platform> <variant> <apiUrl> <apiKey> <customerId>   one server under test
// Variants: ungated (no StiggModule), floor (a global guard doing a Map lookup and a pass-through
// interceptor: what any such Nest enhancer costs), floor-als (the floor whose interceptor subscribes inside an
// AsyncLocalStorage run, as any request-context interceptor does: on Node 20 an active AsyncLocalStorage puts
// hooks on every promise of the process, which the gate's request context pays too; opt-in), module (StiggModule installed, this route not gated: what every
// route of an app using it pays), gated (@RequireFeature on a boolean feature, memory store, warm).
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
// BENCH_NEST_DIST: another build's dist/cjs (a copy of the previous one), to compare releases alternately.
const dist = process.env.BENCH_NEST_DIST ? path.resolve(process.env.BENCH_NEST_DIST) : path.join(__dirname, '..', 'dist', 'cjs');
const { ROUNDS, SECONDS, CONNECTIONS, PIPELINE, CUSTOMER, runLoad, median } = require('./load');

const FEATURE = 'feature-04-analytics';

/** A pass-through interceptor that runs the handler inside an AsyncLocalStorage context (the floor-als variant). */
function alsIntercept() {
  const { AsyncLocalStorage } = require('node:async_hooks');
  const { Observable } = require('rxjs');
  const storage = new AsyncLocalStorage();
  return (ctx, next) => new Observable((subscriber) => storage.run(ctx, () => next.handle().subscribe(subscriber)));
}

async function serve(platform, variant, apiUrl, apiKey, customerId) {
  require('reflect-metadata');
  const { Controller, Get, Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const { StiggClient, createEntitlements } = require(path.join(dist, 'index.js'));
  const { RequireFeature } = require(path.join(dist, 'decorators', 'index.js'));
  const { StiggModule } = require(path.join(dist, 'nest', 'index.js'));

  let served = 0;
  class BenchController {
    async r() {
      served++;
      return { ok: true };
    }
  }
  const decorators = variant === 'gated' ? [Get('r'), RequireFeature(FEATURE)] : [Get('r')];
  Object.defineProperty(
    BenchController.prototype,
    'r',
    Reflect.decorate(decorators, BenchController.prototype, 'r', Object.getOwnPropertyDescriptor(BenchController.prototype, 'r')),
  );
  Reflect.decorate([Controller()], BenchController);

  let entitlements;
  const imports = [];
  const providers = [];
  if (variant === 'floor' || variant === 'floor-als') {
    // Nest's own price for a global guard and interceptor: a Map lookup and a comparison, and a pass-through.
    const { APP_GUARD, APP_INTERCEPTOR } = require('@nestjs/core');
    const floorMap = new Map([[`${customerId}:${FEATURE}`, { limit: 1e9, used: 0 }]]);
    providers.push(
      {
        provide: APP_GUARD,
        useValue: {
          canActivate(ctx) {
            const entry = floorMap.get(`${ctx.switchToHttp().getRequest().headers['x-customer']}:${FEATURE}`);
            return entry !== undefined && entry.used + 0 <= entry.limit;
          },
        },
      },
      { provide: APP_INTERCEPTOR, useValue: { intercept: variant === 'floor' ? (_ctx, next) => next.handle() : alsIntercept() } },
    );
  } else if (variant !== 'ungated') {
    entitlements = createEntitlements({ client: new StiggClient({ apiKey, apiUrl }) });
    const warm = await entitlements.check({ customerId, featureId: FEATURE });
    if (!warm.granted) throw new Error(`bench customer is not entitled to ${FEATURE}: ${warm.accessDeniedReason}`);
    imports.push(StiggModule.forRoot({ entitlements, customer: (ctx) => ctx.switchToHttp().getRequest().headers['x-customer'] }));
  }
  class BenchModule {}
  Reflect.decorate([Module({ imports, providers, controllers: [BenchController] })], BenchModule);

  let adapter;
  if (platform === 'fastify') {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    adapter = new FastifyAdapter();
  } else {
    const { ExpressAdapter } = require('@nestjs/platform-express');
    adapter = new ExpressAdapter();
  }
  const app = await NestFactory.create(BenchModule, adapter, { logger: false });
  await app.listen(0, '127.0.0.1');

  let window = { requests: 0, cpu: process.cpuUsage() };
  process.on('SIGUSR2', () => {
    window = { requests: served, cpu: process.cpuUsage() };
  });
  process.stdout.write(`READY ${app.getHttpServer().address().port}\n`);
  process.on('SIGTERM', async () => {
    const cpu = process.cpuUsage(window.cpu);
    process.stdout.write(`STATS ${JSON.stringify({ requests: served - window.requests, cpuUs: cpu.user + cpu.system })}\n`);
    await app.close();
    if (entitlements) await entitlements.close();
    process.exit(0);
  });
}

function startServer(platform, variant, emulator) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, 'server', platform, variant, emulator.url, emulator.apiKey, CUSTOMER], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stats;
    const exited = new Promise((done) => child.once('exit', () => done(stats)));
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const ready = /^READY (\d+)$/.exec(line);
      if (ready) resolve({ child, port: Number(ready[1]), exited });
      const reported = /^STATS (.*)$/.exec(line);
      if (reported) stats = JSON.parse(reported[1]);
    });
    child.once('exit', (code) => reject(new Error(`nest ${platform}/${variant} server exited with ${code}`)));
  });
}

async function measure(platform, variant, emulator) {
  const { child, port, exited } = await startServer(platform, variant, emulator);
  let result;
  try {
    await runLoad(port, 1); // JIT warm-up, discarded
    child.kill('SIGUSR2');
    result = await runLoad(port, SECONDS);
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`nest ${platform}/${variant}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  } finally {
    child.kill('SIGTERM');
  }
  const stats = await exited;
  return { ...result, cpuUsPerRequest: stats ? stats.cpuUs / stats.requests : NaN };
}

async function main() {
  const variants = (process.env.BENCH_NEST_VARIANTS ?? 'ungated,floor,module,gated').split(',');
  const platforms = (process.env.BENCH_NEST_PLATFORMS ?? 'express,fastify').split(',');
  const { startEmulator } = require(path.join(dist, 'emulator', 'index.js'));
  const { StiggClient } = require(path.join(dist, 'index.js'));
  const emulator = await startEmulator({ port: 0 });
  try {
    const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url });
    await client.provisionCustomer({ customerId: CUSTOMER, subscriptionParams: { planId: 'plan-revvenu-growth' } });
    const runs = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const platform of platforms) {
        for (const variant of variants) {
          ((runs[platform] ??= {})[variant] ??= []).push(await measure(platform, variant, emulator));
        }
      }
    }
    const summary = {};
    for (const [platform, byVariant] of Object.entries(runs)) {
      const rows = {};
      for (const [variant, results] of Object.entries(byVariant)) {
        const rps = median(results.map((r) => r.rps));
        const mid = results.find((r) => r.rps === rps);
        rows[variant] = {
          rps: Math.round(rps),
          p50Us: mid.p50Us,
          p99Us: mid.p99Us,
          serverCpuUsPerRequest: Number(median(results.map((r) => r.cpuUsPerRequest)).toFixed(2)),
          rounds: results.map((r) => Math.round(r.rps)),
        };
      }
      const paired = (a, b, of) =>
        byVariant[a] && byVariant[b]
          ? Number(median(byVariant[a].map((result, round) => of(result, byVariant[b][round]))).toFixed(3))
          : undefined;
      const ratio = (a, b) => paired(a, b, (x, y) => x.rps / y.rps);
      const cpuRatio = (a, b) => paired(a, b, (x, y) => y.cpuUsPerRequest / x.cpuUsPerRequest);
      summary[platform] = {
        ...rows,
        ratios: {
          gatedVsUngated: ratio('gated', 'ungated'),
          gatedVsFloor: ratio('gated', 'floor'),
          gatedVsFloorAls: ratio('gated', 'floor-als'),
          floorVsUngated: ratio('floor', 'ungated'),
          moduleVsUngated: ratio('module', 'ungated'),
          gatedVsModule: ratio('gated', 'module'),
        },
        cpuEfficiencyRatios: {
          gatedVsUngated: cpuRatio('gated', 'ungated'),
          gatedVsFloor: cpuRatio('gated', 'floor'),
          gatedVsFloorAls: cpuRatio('gated', 'floor-als'),
          floorVsUngated: cpuRatio('floor', 'ungated'),
          moduleVsUngated: cpuRatio('module', 'ungated'),
          gatedVsModule: cpuRatio('gated', 'module'),
        },
      };
    }
    return {
      nest: { rounds: ROUNDS, secondsPerRun: SECONDS, connections: CONNECTIONS, pipelineDepth: PIPELINE, ...summary },
    };
  } finally {
    await emulator.stop();
  }
}

module.exports = { main };
if (require.main === module) {
  const run =
    process.argv[2] === 'server'
      ? serve(...process.argv.slice(3))
      : main().then((result) => process.stdout.write(JSON.stringify(result, null, 2) + '\n'));
  run.catch((error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  });
}
