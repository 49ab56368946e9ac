import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { forSuite } from '../support/suite';

/** Every Redis suite talks to this server: REDIS_URL, else the local default. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * NODE_PATH for the node processes a suite starts: the repository's node_modules, behind a folder whose
 * only entry is `ioredis`, pointing at the package STIGG_GATE_IOREDIS names (npm run test:ioredis6), so
 * children load the same ioredis major as the suite.
 */
export function childNodePath(): string {
  const modules = path.resolve(__dirname, '..', '..', 'node_modules');
  const alias = process.env.STIGG_GATE_IOREDIS;
  if (!alias) return modules;
  // One overlay per checkout: another checkout's link (CI's clean clone beside a developer's) is not ours.
  const checkout = createHash('sha256').update(modules).digest('hex').slice(0, 12);
  const overlay = path.join(os.tmpdir(), `stigg-gate-ioredis-${alias}-${process.getuid?.() ?? 0}-${checkout}`);
  fs.mkdirSync(overlay, { recursive: true });
  const link = path.join(overlay, 'ioredis');
  try {
    fs.symlinkSync(path.join(modules, alias), link, 'dir');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (fs.realpathSync(link) !== fs.realpathSync(path.join(modules, alias))) throw new Error(`${link} points elsewhere`);
  return [overlay, modules].join(path.delimiter);
}

export const START_REDIS = 'redis-server --daemonize yes --port 6379 --save "" --appendonly no';

const PROBE = `
const Redis = require('ioredis');
const client = new Redis(process.argv[1], { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1500, retryStrategy: () => null });
let cause;
client.on('error', (error) => { cause ??= error.message; });
client.connect().then(() => client.ping()).then(
  () => { client.disconnect(); process.exit(0); },
  (error) => { process.stdout.write(String(cause ?? (error && error.message))); client.disconnect(); process.exit(1); },
);`;

/**
 * Called at the top of every Redis suite: when Redis does not answer, the suite fails to load with
 * one line (the address and the start command) instead of every test failing on its own. Only the
 * first suite of a run names the cause in full; the others point at it. Never a skip.
 */
export function requireRedis(): void {
  const probe = spawnSync(process.execPath, ['-e', PROBE, REDIS_URL], {
    encoding: 'utf8',
    timeout: 5000,
    env: { ...process.env, NODE_PATH: childNodePath() },
  });
  if (probe.status === 0) return;
  const cause = probe.stdout?.trim() || probe.error?.message || `probe exited with ${String(probe.status)}`;
  // One marker per jest run: workers share their parent's pid, an in-band run its own.
  const run = typeof process.send === 'function' ? process.ppid : process.pid;
  const marker = path.join(os.tmpdir(), `stigg-gate-redis-unreachable-${run}`);
  let first = true;
  try {
    fs.writeFileSync(marker, cause, { flag: 'wx' });
  } catch {
    first = false;
  }
  const message = first
    ? `Redis tests: no Redis answered at ${REDIS_URL} (${cause}). Start one with \`${START_REDIS}\` or set REDIS_URL.`
    : `Redis tests: no Redis at ${REDIS_URL} (the first failing Redis suite says how to start it).`;
  const error = new Error(message);
  error.stack = message;
  throw error;
}

/** A client to the test Redis (requireRedis() has checked it answers). */
export async function connectRedis(): Promise<Redis> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(
      `Redis tests: no Redis answered at ${REDIS_URL} (${(error as Error).message}). Start one with \`${START_REDIS}\` or set REDIS_URL.`,
    );
  }
  return client;
}

export function uniquePrefix(): string {
  return `stigg-gate-test:${randomBytes(6).toString('hex')}:`;
}

export async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await client.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** A loopback port nothing listens on. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Called at the top of a suite that starts redis-server processes of its own (a cluster, a server it
 * kills): without the binaries the suite fails to load with one line saying what is missing. Never a skip.
 */
export function requireRedisBinaries(): void {
  for (const binary of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status === 0) continue;
    const message = `Redis tests: \`${binary} --version\` failed (${probe.error?.message ?? probe.stderr?.trim() ?? `exit ${String(probe.status)}`}): this suite starts Redis servers of its own. Install Redis (e.g. apt-get install redis-server, brew install redis) so ${binary} is on PATH.`;
    const error = new Error(message);
    error.stack = message;
    throw error;
  }
}

/** A redis-server of a test's own on loopback `port`, without persistence (to restart or flush it freely); resolves once it answers. */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], {
    stdio: 'ignore',
  });
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await probe.connect();
        await probe.ping();
        return server;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } finally {
    probe.disconnect();
  }
  server.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

/** SIGKILL, as a crash: resolves once the process is gone. */
export function stopRedisServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGKILL');
  return exited;
}

/**
 * Writes an entry through `store`, then empties its Redis (data and scripts) under the live connection through
 * `admin`, and has the store use it once more: the loss a FLUSHALL makes, for the store to find.
 */
export async function loseEverythingUnder(
  store: {
    setEntitlement(key: string, customerId: string, entry: never, ttlMs: number): Promise<unknown>;
    reservedUsage(key: string): Promise<unknown>;
  },
  admin: Redis,
): Promise<void> {
  await store.setEntitlement('k', 'c', { currentUsage: 0 } as never, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await admin.flushall();
  await admin.script('FLUSH');
  await store.reservedUsage('k');
}

/**
 * The suite's Redis connection and a key prefix of its own: connected before the suite, its keys deleted and
 * the connection closed after it.
 */
export function redisForSuite(): { redis: Redis; prefix: string } {
  const prefix = uniquePrefix();
  const redis = forSuite(connectRedis, async (connection) => {
    await deleteKeys(connection, prefix);
    await connection.quit();
  });
  return { redis, prefix };
}
