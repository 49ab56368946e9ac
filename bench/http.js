'use strict';
// Throughput of a gated route next to the same route ungated and behind the "floor" (one async
// middleware doing a Map lookup and a comparison), for Express and Koa, measured side by side in one
// run. Servers and the load generator run in separate processes; variants are interleaved over
// several rounds and the median round is reported, so drift on a shared machine hits all alike.
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const dist = path.join(__dirname, '..', 'dist', 'cjs');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const CUSTOMER = 'bench-customer';

function startServer(framework, variant, emulator) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), framework, variant, emulator.url, emulator.apiKey, CUSTOMER], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /^READY (\d+)$/.exec(line);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${framework}/${variant} server exited with ${code}`)));
  });
}

function runLoad(port, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      path.join(__dirname, 'loadgen.js'), '127.0.0.1', String(port), '/r', String(seconds), String(CONNECTIONS), `x-customer: ${CUSTOMER}`,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`loadgen exited with ${code}`))));
  });
}

async function measure(framework, variant, emulator) {
  const { child, port } = await startServer(framework, variant, emulator);
  try {
    await runLoad(port, 1); // JIT warm-up, discarded
    const result = await runLoad(port, SECONDS);
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${framework}/${variant}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const variants = (process.env.BENCH_VARIANTS ?? 'ungated,floor,gated,gated-redis').split(',');
  const frameworks = (process.env.BENCH_FRAMEWORKS ?? 'express,koa').split(',');
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
        rows[variant] = { rps: Math.round(rps), p50Us: mid.p50Us, p99Us: mid.p99Us, rounds: results.map((r) => Math.round(r.rps)) };
      }
      const ratio = (a, b) => (rows[a] && rows[b] ? Number((rows[a].rps / rows[b].rps).toFixed(3)) : undefined);
      summary[framework] = {
        ...rows,
        ratios: {
          gatedVsFloor: ratio('gated', 'floor'),
          gatedVsUngated: ratio('gated', 'ungated'),
          floorVsUngated: ratio('floor', 'ungated'),
          gatedRedisVsGated: ratio('gated-redis', 'gated'),
        },
      };
    }
    const upstream = emulator.stats();
    return { http: { rounds: ROUNDS, secondsPerRun: SECONDS, connections: CONNECTIONS, ...summary, upstreamRequests: upstream.requests } };
  } finally {
    await emulator.stop();
  }
}

module.exports = { main };
if (require.main === module) {
  main().then((result) => process.stdout.write(JSON.stringify(result, null, 2) + '\n'), (error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  });
}
