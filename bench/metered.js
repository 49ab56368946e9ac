'use strict';
// The metered route (every request reserves 1 unit, commits it and has it delivered), Express and Koa,
// memory store and RedisStore, measured side by side in one run (rounds interleaved, median reported),
// with what Redis spent per metered request: its own CPU (INFO cpu), the script calls and every command
// (INFO commandstats, commands run inside scripts included), read before the window and after the server
// closed (so the delivery of the window's usage is in the figures). Redis is a private redis-server this
// benchmark starts on a free port when one is on PATH (nothing else then touches it), else REDIS_URL (the
// figures then include whatever else uses that server: the summary says which).
const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');
const dist = path.join(__dirname, '..', 'dist', 'cjs');
const { ROUNDS, SECONDS, runLoad, median } = require('./load');
const { meteredCatalog, meteredCustomers } = require('./metered-catalog.js');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

async function startRedis() {
  if (spawnSync('redis-server', ['--version']).status !== 0)
    return { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', stop: async () => {} };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const Redis = require('ioredis');
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return { url, private: true, stop: async () => void child.kill('SIGKILL') };
    } catch {
      probe.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer`);
}

/** Redis's CPU (µs), and calls per command, from INFO. */
async function redisCounters(redis) {
  const cpu = await redis.info('cpu');
  const stats = await redis.info('commandstats');
  const seconds = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? NaN);
  const calls = {};
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return { cpuUs: (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6, calls };
}

function startServer(framework, storeKind, emulator, redisUrl) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(__dirname, 'metered-server.js'), framework, storeKind, emulator.url, emulator.apiKey],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, REDIS_URL: redisUrl },
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
    child.once('exit', (code) => reject(new Error(`${framework}/${storeKind} metered server exited with ${code}`)));
  });
}

async function measure(framework, storeKind, emulator, redisUrl, redis) {
  const { child, port, exited } = await startServer(framework, storeKind, emulator, redisUrl);
  let result;
  let before;
  try {
    await runLoad(port, 1); // JIT warm-up, discarded
    before = await redisCounters(redis);
    child.kill('SIGUSR2');
    result = await runLoad(port, SECONDS);
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${framework}/${storeKind}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  } finally {
    child.kill('SIGTERM');
  }
  const stats = await exited;
  const after = await redisCounters(redis);
  if (!stats) throw new Error(`${framework}/${storeKind}: the server printed no STATS`);
  if (stats.undelivered > 0) throw new Error(`${framework}/${storeKind}: ${stats.undelivered} reports undelivered at close`);
  const row = { rps: result.rps, p99Us: result.p99Us, cpuUsPerRequest: stats.cpuUs / stats.requests };
  if (storeKind !== 'redis') return row;
  let commands = 0;
  let scripts = 0;
  const mix = {};
  for (const [name, calls] of Object.entries(after.calls)) {
    const delta = calls - (before.calls[name] ?? 0) - (name === 'info' ? 2 : 0); // our own INFO cpu + commandstats
    commands += delta;
    if (name === 'evalsha' || name === 'eval' || name === 'fcall') scripts += delta;
    if (delta > 0) mix[name] = Number((delta / stats.requests).toFixed(2));
  }
  return {
    ...row,
    redisCpuUsPerRequest: (after.cpuUs - before.cpuUs) / stats.requests,
    redisScriptsPerRequest: scripts / stats.requests,
    redisCommandsPerRequest: commands / stats.requests,
    redisCommandMix: mix,
  };
}

async function main() {
  const frameworks = (process.env.BENCH_FRAMEWORKS ?? 'express,koa').split(',').filter((name) => name === 'express' || name === 'koa');
  const { startEmulator, defaultCatalog } = require(path.join(dist, 'emulator', 'index.js'));
  const Redis = require('ioredis');
  const emulator = await startEmulator({ port: 0, catalog: meteredCatalog(defaultCatalog) });
  const server = await startRedis();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  try {
    const runs = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const framework of frameworks) {
        for (const storeKind of ['memory', 'redis']) {
          ((runs[framework] ??= {})[storeKind] ??= []).push(await measure(framework, storeKind, emulator, server.url, redis));
        }
      }
    }
    const summary = {};
    const fixed = (value, digits) => Number(value.toFixed(digits));
    for (const [framework, byStore] of Object.entries(runs)) {
      const rows = {};
      for (const [storeKind, results] of Object.entries(byStore)) {
        const row = { rps: Math.round(median(results.map((r) => r.rps))), rounds: results.map((r) => Math.round(r.rps)) };
        row.serverCpuUsPerRequest = fixed(median(results.map((r) => r.cpuUsPerRequest)), 1);
        if (storeKind === 'redis') {
          row.redisCpuUsPerRequest = fixed(median(results.map((r) => r.redisCpuUsPerRequest)), 1);
          row.redisScriptsPerRequest = fixed(median(results.map((r) => r.redisScriptsPerRequest)), 2);
          row.redisCommandsPerRequest = fixed(median(results.map((r) => r.redisCommandsPerRequest)), 1);
          // Per command, per request, of the last round: where the commands go.
          row.redisCommandMix = results[results.length - 1].redisCommandMix;
        }
        rows[storeKind] = row;
      }
      // Within each round, then the median over rounds: drift between rounds cancels out.
      const redisVsMemory = median(byStore.redis.map((result, round) => result.rps / byStore.memory[round].rps));
      summary[framework] = { ...rows, ratios: { meteredRedisVsMemory: fixed(redisVsMemory, 3) } };
    }
    return {
      metered: {
        rounds: ROUNDS,
        secondsPerRun: SECONDS,
        customers: meteredCustomers().length,
        redis: server.private
          ? 'private redis-server started by the benchmark'
          : `${server.url} (shared: its other traffic is in the figures)`,
        ...summary,
        reported: Object.values(emulator.stats().usage).reduce((sum, units) => sum + units, 0),
      },
    };
  } finally {
    redis.disconnect();
    await server.stop();
    await emulator.stop();
  }
}

module.exports = { main };
if (require.main === module) {
  main().then(
    (summary) => process.stdout.write(JSON.stringify(summary, null, 2) + '\n'),
    (error) => {
      process.stderr.write(`${error.stack ?? error}\n`);
      process.exit(1);
    },
  );
}
