import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import http from 'node:http';
import type Redis from 'ioredis';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { buildToTemp } from './build';
import { childNodePath, connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { random } from '../support/time';

requireRedis();

// Issue 23, settle(actual) across PROCESSES: two node processes sharing one Redis, each an Express
// app whose route reserves 100 tokens and settles a random actual from 0 to 150. 1,000 requests over
// HTTP, 64 at a time (all at once, the reservations alone would fill the limit before the first
// settle). Σ reported to Stigg (counted by the emulator) = Σ actual of the requests served, exactly;
// and once the units settled leave no room for 100 more, no request is granted.

jest.setTimeout(180_000);

const CUSTOMER = 'customer-tokens';
const TOKENS = 'feature-tokens';
const LIMIT = 20_000;
const REQUESTS = 1_000;
const IN_FLIGHT = 64;

let redis: Redis;
let prefix: string;
let emulator: Emulator;
let dist: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  redis = await connectRedis();
  prefix = uniquePrefix();
  dist = buildToTemp();
  emulator = await startEmulator({
    catalog: {
      ...defaultCatalog,
      features: [...defaultCatalog.features, { id: TOKENS, displayName: 'Tokens', featureType: 'NUMBER', meterType: 'Incremental' }],
      plans: [
        ...defaultCatalog.plans,
        { id: 'plan-tokens', productId: 'product-revvenu', pricingType: 'FREE', entitlements: [{ featureId: TOKENS, usageLimit: LIMIT }] },
      ],
      customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-tokens' }] }],
    },
  });
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await emulator.stop();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

interface Worker {
  port: number;
  close(): Promise<{ storeErrors: string[]; overruns: number }>;
}

function startWorker(): Promise<Worker> {
  const child = fork(path.join(__dirname, 'fixtures', 'settle-worker.js'), [], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: childNodePath(),
      STIGG_GATE_DIST: dist,
      STIGG_GATE_WORKER: JSON.stringify({ apiKey: emulator.apiKey, apiUrl: emulator.url, redisUrl: REDIS_URL, prefix, featureId: TOKENS }),
    },
  });
  children.add(child);
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)}: ${stderr.join('')}`)));
    child.on('message', (message: { type: string; port?: number }) => {
      if (message.type !== 'ready') return;
      resolve({
        port: message.port as number,
        close: () =>
          new Promise((done) => {
            child.on('message', (reply: { type: string; storeErrors: string[]; overruns: number }) => {
              if (reply.type !== 'closed') return;
              child.kill();
              done(reply);
            });
            child.send({ type: 'close' });
          }),
      });
    });
  });
}

// No keep-alive: on a busy machine a request sent on an idle socket the server is just closing ends in "socket hang up".
const agent = new http.Agent({ keepAlive: false, maxSockets: IN_FLIGHT });

function post(port: number, actual: number, wait: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/tokens',
        method: 'POST',
        agent,
        headers: { 'x-customer': CUSTOMER, 'x-actual': String(actual), 'x-wait': String(wait), 'content-length': '0' },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

it('1,000 requests on 2 processes: Σ reported = Σ actual exactly, and none is granted once the settled units leave no room', async () => {
  const workers = await Promise.all([startWorker(), startWorker()]);
  const next = random(23);
  const plan = Array.from({ length: REQUESTS }, () => ({ actual: Math.floor(next() * 151), wait: Math.floor(next() * 5) }));
  let settled = 0; // Σ actual of the requests answered so far
  let actualTotal = 0;
  let granted = 0;
  let askedAfterLimit = 0;
  const lateGrants: number[] = [];
  const statuses = new Map<number, number>();
  const finalStatuses: number[] = [];
  let fleetCount = Number.NaN;
  let cursor = 0;
  async function lane(): Promise<void> {
    while (cursor < plan.length) {
      const i = cursor++;
      const { actual, wait } = plan[i] as { actual: number; wait: number };
      const before = settled;
      const status = await post((workers[i % 2] as Worker).port, actual, wait);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (before + 100 > LIMIT) askedAfterLimit += 1;
      if (status !== 200) continue;
      granted += 1;
      if (before + 100 > LIMIT) lateGrants.push(before);
      settled += actual;
      actualTotal += actual;
    }
  }
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => lane()));
    // A loaded machine may leave room at the end: the last requests were denied while others held
    // their 100, and then nobody asked again. So ask one at a time, settling 100 each, until the fleet
    // denies (a denial is retried after a pause, in case a commit was still on its way); then ten
    // more, all of which must be denied.
    let denials = 0;
    for (let i = 0; denials < 3 && i < 400; i += 1) {
      const before = settled;
      const status = await post((workers[i % 2] as Worker).port, 100, 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (before + 100 > LIMIT) askedAfterLimit += 1;
      if (status !== 200) {
        denials += 1;
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      denials = 0;
      granted += 1;
      if (before + 100 > LIMIT) lateGrants.push(before);
      settled += 100;
      actualTotal += 100;
    }
    expect(denials).toBe(3);
    // What the fleet counts (Redis's cached usage, which every reservation is checked against).
    fleetCount = Number(await redis.hget(`${prefix}ent:${CUSTOMER}\u001f\u001f${TOKENS}`, 'usage'));
    for (let i = 0; i < 10; i += 1) {
      const before = settled;
      const status = await post((workers[i % 2] as Worker).port, 0, 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      finalStatuses.push(status);
      if (before + 100 > LIMIT) askedAfterLimit += 1;
      if (status === 200 && before + 100 > LIMIT) lateGrants.push(before);
    }
  } finally {
    agent.destroy();
  }
  const closed = await Promise.all(workers.map((worker) => worker.close()));
  const reported = emulator.stats().usage[`${CUSTOMER}||${TOKENS}`] ?? 0;
  expect([...statuses.keys()].sort()).toEqual([200, 402]);
  expect(closed.flatMap((worker) => worker.storeErrors)).toEqual([]);
  // More grants than reservations of 100 alone allow: what settled under 100 went back.
  expect(granted).toBeGreaterThan(LIMIT / 100);
  expect(reported).toBe(actualTotal);
  // None was granted once the settled units left no room, and the fleet denied at the end: every
  // denial is explained by its count, which is never below the truth (a unit missed would be granted
  // twice). It may be above it: two processes reconciling one key at once can count the units the
  // other got acknowledged twice until the key's next write (measured: 0 to 730 units at the end of
  // this run; docs/redis.md, "Known limits"). So the limit is reached by the fleet's count.
  expect(lateGrants).toEqual([]);
  expect(finalStatuses).toEqual(Array.from({ length: 10 }, () => 402));
  expect(fleetCount).toBeGreaterThanOrEqual(actualTotal);
  expect(fleetCount + 100).toBeGreaterThan(LIMIT);
  console.log(
    `settle fleet: ${granted} granted of ${REQUESTS}, Σ actual ${actualTotal}, reported ${reported}, the fleet's count ${fleetCount}, limit ${LIMIT}, asked after the limit ${askedAfterLimit}, overruns signalled ${closed.reduce((sum, worker) => sum + worker.overruns, 0)}`,
  );
});
