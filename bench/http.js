'use strict';
// Throughput of a gated route next to the same route ungated and behind the "floor" (one async
// middleware doing a Map lookup and a comparison in place of requireFeature, in the same app; bare-floor: the
// lookup alone in an otherwise empty process), for Express, Koa, Fastify and Hono, measured side by side in one
// run. Servers and the load generator run in separate processes; variants are interleaved over
// several rounds and the median round is reported, so drift on a shared machine hits all alike.
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const dist = path.join(__dirname, '..', 'dist', 'cjs');
const { ROUNDS, SECONDS, CONNECTIONS, PIPELINE, CUSTOMER, runLoad, median } = require('./load');

function startServer(framework, variant, emulator) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(__dirname, 'server.js'), framework, variant, emulator.url, emulator.apiKey, CUSTOMER],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stats;
    const exited = new Promise((done) => child.once('exit', () => done(stats)));
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const ready = /^READY (\d+)$/.exec(line);
      if (ready) resolve({ child, port: Number(ready[1]), exited });
      const reported = /^STATS (.*)$/.exec(line);
      if (reported) stats = JSON.parse(reported[1]);
    });
    child.once('exit', (code) => reject(new Error(`${framework}/${variant} server exited with ${code}`)));
  });
}

async function measure(framework, variant, emulator) {
  const { child, port, exited } = await startServer(framework, variant, emulator);
  let result;
  try {
    await runLoad(port, 1); // JIT warm-up, discarded
    child.kill('SIGUSR2');
    result = await runLoad(port, SECONDS);
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${framework}/${variant}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  } finally {
    child.kill('SIGTERM');
  }
  const stats = await exited;
  return { ...result, cpuUsPerRequest: stats ? stats.cpuUs / stats.requests : NaN };
}

async function main() {
  const variants = (process.env.BENCH_VARIANTS ?? 'ungated,bare-floor,floor,gated,gated-redis,otel-floor,otel-gated').split(',');
  const frameworks = (process.env.BENCH_FRAMEWORKS ?? 'express,koa,fastify,hono').split(',');
  const { startEmulator } = require(path.join(dist, 'emulator', 'index.js'));
  const { StiggClient } = require(path.join(dist, 'index.js'));
  const emulator = await startEmulator({ port: 0 });
  try {
    const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url });
    await client.provisionCustomer({ customerId: CUSTOMER, subscriptionParams: { planId: 'plan-revvenu-growth' } });
    const runs = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const framework of frameworks) {
        for (const variant of variants) {
          if (variant.startsWith('otel-') && framework !== 'express') continue;
          const result = await measure(framework, variant, emulator);
          ((runs[framework] ??= {})[variant] ??= []).push(result);
        }
      }
    }
    const summary = {};
    for (const [framework, byVariant] of Object.entries(runs)) {
      const rows = {};
      for (const [variant, results] of Object.entries(byVariant)) {
        const rps = median(results.map((r) => r.rps));
        const mid = results.find((r) => r.rps === rps);
        const cpu = median(results.map((r) => r.cpuUsPerRequest));
        rows[variant] = {
          rps: Math.round(rps),
          p50Us: mid.p50Us,
          p99Us: mid.p99Us,
          serverCpuUsPerRequest: Number(cpu.toFixed(2)),
          rounds: results.map((r) => Math.round(r.rps)),
        };
      }
      // Each round measures every variant back to back, so a ratio is taken within a round and the
      // median over rounds is reported: drift of a shared machine between rounds cancels out.
      const pairedRatio = (a, b, of) => {
        if (!byVariant[a] || !byVariant[b]) return undefined;
        return Number(median(byVariant[a].map((result, round) => of(result, byVariant[b][round]))).toFixed(3));
      };
      const ratio = (a, b) => pairedRatio(a, b, (x, y) => x.rps / y.rps);
      // Requests per server CPU-second relative to the other variant: the throughput ratio if the server alone were the limit.
      const cpuRatio = (a, b) => pairedRatio(a, b, (x, y) => y.cpuUsPerRequest / x.cpuUsPerRequest);
      summary[framework] = {
        ...rows,
        ratios: {
          gatedVsFloor: ratio('gated', 'floor'),
          gatedVsBareFloor: ratio('gated', 'bare-floor'),
          floorVsBareFloor: ratio('floor', 'bare-floor'),
          gatedVsUngated: ratio('gated', 'ungated'),
          floorVsUngated: ratio('floor', 'ungated'),
          gatedRedisVsGated: ratio('gated-redis', 'gated'),
          checksDeniedVsGated: ratio('gated-checks-denied', 'gated'),
          checksAllVsGated: ratio('gated-checks-all', 'gated'),
          otelGatedVsOtelFloor: ratio('otel-gated', 'otel-floor'),
        },
        // reportChecks must not touch the request: its p99 next to the same gate without it, within each round.
        p99Ratios: {
          checksDeniedVsGated: pairedRatio('gated-checks-denied', 'gated', (x, y) => x.p99Us / y.p99Us),
          checksAllVsGated: pairedRatio('gated-checks-all', 'gated', (x, y) => x.p99Us / y.p99Us),
        },
        cpuEfficiencyRatios: {
          gatedVsFloor: cpuRatio('gated', 'floor'),
          gatedVsBareFloor: cpuRatio('gated', 'bare-floor'),
          gatedVsUngated: cpuRatio('gated', 'ungated'),
          gatedRedisVsGated: cpuRatio('gated-redis', 'gated'),
          otelGatedVsOtelFloor: cpuRatio('otel-gated', 'otel-floor'),
        },
      };
    }
    const upstream = emulator.stats();
    return {
      http: {
        rounds: ROUNDS,
        secondsPerRun: SECONDS,
        connections: CONNECTIONS,
        pipelineDepth: PIPELINE,
        ...summary,
        upstreamRequests: upstream.requests,
        checkReports: upstream.checkReports,
      },
    };
  } finally {
    await emulator.stop();
  }
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
