import fs from 'node:fs';
import type Redis from 'ioredis';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { buildToTemp } from './build';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';
import { CUSTOMER, FEATURE, startWorker, workers, type Worker } from './workers';
import { sleep } from '../support/time';

requireRedis();

const USAGE_KEY = `${CUSTOMER}||${FEATURE}`;

let dist: string;
let emulator: Emulator;
let redis: Redis;
const prefixes: string[] = [];

async function startFleet(count: number, usage: Record<string, number>): Promise<{ prefix: string; fleet: Worker[] }> {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const fleet = await Promise.all(Array.from({ length: count }, () => startWorker(dist, emulator, prefix, usage)));
  return { prefix, fleet };
}

async function post(worker: Worker): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${worker.port}/campaigns`, { method: 'POST', headers: { 'x-customer': CUSTOMER } });
  await response.arrayBuffer();
  return response.status;
}

function count(statuses: number[], status: number): number {
  return statuses.filter((s) => s === status).length;
}

async function outboxSize(prefix: string): Promise<number> {
  return redis.hlen(`${prefix}outbox`);
}

beforeAll(async () => {
  redis = await connectRedis();
  dist = buildToTemp();
  emulator = await startEmulator({
    catalog: {
      ...defaultCatalog,
      customers: [
        {
          id: CUSTOMER,
          subscriptions: [{ planId: 'plan-revvenu-growth' }],
          usage: [{ featureId: FEATURE, value: 50 }],
        },
      ],
    },
  });
}, 120_000);

beforeEach(() => {
  emulator.reset();
  emulator.setFaults({ latencyMs: 0, failureRate: 0 });
});

afterAll(async () => {
  for (const child of workers) child.kill('SIGKILL');
  await emulator?.stop();
  for (const prefix of prefixes) await deleteKeys(redis, prefix);
  await redis?.quit();
  if (dist !== undefined) fs.rmSync(dist, { recursive: true, force: true });
});

it('4 processes, 400 concurrent requests, 50 units left: exactly 50 granted, one upstream check, usage +50 once flushed', async () => {
  const { prefix, fleet } = await startFleet(4, { flushIntervalMs: 60_000, batchSize: 1000, leaseMs: 5000 });
  const statuses = await Promise.all(Array.from({ length: 400 }, (_, i) => post(fleet[i % fleet.length]!)));
  const queued = await outboxSize(prefix);
  const closed = await Promise.all(fleet.map((worker) => worker.close()));
  expect({
    granted: count(statuses, 200),
    denied: count(statuses, 402),
    other: statuses.length - count(statuses, 200) - count(statuses, 402),
    queued,
    upstreamChecks: (emulator.stats().operations.entitlement ?? 0) + (emulator.stats().operations.entitlementsState ?? 0),
    storeErrors: closed.flatMap((c) => c.storeErrors),
  }).toEqual({ granted: 50, denied: 350, other: 0, queued: 50, upstreamChecks: 1, storeErrors: [] });
  expect(emulator.stats().usage[USAGE_KEY]).toBe(50);
  expect(await outboxSize(prefix)).toBe(0);
}, 120_000);

it('a worker SIGKILLed with claimed and unclaimed usage: the others deliver it, the emulator counts every granted unit once', async () => {
  const leaseMs = 700;
  const { prefix, fleet } = await startFleet(3, { flushIntervalMs: 60_000, batchSize: 1000, leaseMs });
  const [victim, ...survivors] = fleet as [Worker, Worker, Worker];
  const statuses: number[] = [];
  statuses.push(...(await Promise.all(Array.from({ length: 20 }, () => post(victim)))));
  statuses.push(...(await Promise.all(Array.from({ length: 10 }, () => post(survivors[0])))));
  expect(count(statuses, 200)).toBe(30);
  for (let waited = 0; (await outboxSize(prefix)) < 30 && waited < 5000; waited += 10) await sleep(10);

  // The victim claims the whole outbox, Stigg answers 5xx, and it dies while retrying its leased batch.
  emulator.setFaults({ failureRate: 1 });
  victim.flush().catch(() => {});
  for (let waited = 0; emulator.stats().faults.http5xx === 0 && waited < 5000; waited += 10) await sleep(10);
  expect(emulator.stats().faults.http5xx).toBeGreaterThan(0);
  expect(await redis.zcard(`${prefix}outbox:inflight`)).toBe(30);
  victim.child.kill('SIGKILL');
  await new Promise((resolve) => victim.child.once('exit', resolve));
  emulator.setFaults({ failureRate: 0 });
  expect({ outbox: await outboxSize(prefix), inFlight: await redis.zcard(`${prefix}outbox:inflight`) }).toEqual({
    outbox: 30,
    inFlight: 30,
  });
  expect(emulator.stats().usage[USAGE_KEY]).toBeUndefined();

  // The others run on: the limit still holds and, once the lease ran out, they deliver the victim's reports.
  statuses.push(...(await Promise.all(Array.from({ length: 40 }, (_, i) => post(survivors[i % 2]!)))));
  expect({ granted: count(statuses, 200), denied: count(statuses, 402) }).toEqual({ granted: 50, denied: 20 });
  await sleep(leaseMs + 100);
  // The survivor that served no unit before the kill delivers everything, the other's units included.
  await survivors[1].flush();
  await survivors[0].flush();
  expect(emulator.stats().usage[USAGE_KEY]).toBe(50);
  expect(await outboxSize(prefix)).toBe(0);
  // Settled: every process decides with Stigg's usage (50 + 50), no unit counted twice (that would
  // deny units that are left) or missed (that would grant past the limit), also after a refresh.
  expect(await Promise.all(survivors.map((worker) => worker.usage(false)))).toEqual([100, 100]);
  // One after the other, so each fetches from Stigg itself rather than reading the other's fetch.
  expect(await survivors[0].usage(true)).toBe(100);
  expect(await survivors[1].usage(true)).toBe(100);
  expect(await redis.exists(`${prefix}pend:${CUSTOMER}\u001f\u001f${FEATURE}`)).toBe(0);
  const closed = await Promise.all(survivors.map((worker) => worker.close()));
  expect(closed.flatMap((c) => c.storeErrors)).toEqual([]);
}, 120_000);
