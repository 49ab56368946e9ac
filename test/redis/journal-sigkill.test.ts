import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { runScript, type Script } from '../process/script';
import { closedPort, startRedisServer, stopRedisServer } from './helpers';

// Issue 26, finding 4: commits a Redis store refused (Redis down) were held in process memory only,
// so a SIGKILL lost them (10 units in a 3-process run). With the store's `journal` file they are on
// disk before they are sent; the next process started with that file queues them again.

const CUSTOMER = 'customer-journal';
const UNITS = 5;
const WORKERS = 3;

const WORKER = `
import fs from 'node:fs';
import { Stigg, createEntitlements } from 'stigg-gate';
import { RedisStore } from 'stigg-gate/redis';

const env = process.env as Record<string, string>;
const store = new RedisStore({ redis: env.REDIS, journal: env.JOURNAL, commandTimeoutMs: 3000, nearCacheMs: 0 });
const entitlements = createEntitlements({
  client: Stigg.createClient(env.KEY, { apiUrl: env.URL, maxRetries: 0 }),
  store,
  usage: { flushIntervalMs: 100 },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
setInterval(() => {}, 1000); // a server: it runs until it is killed
async function main(): Promise<void> {
  const units = Number(env.UNITS);
  if (units === 0) return void console.log('started');
  const leases = [];
  while (leases.length < units) {
    try {
      leases.push(await entitlements.acquire({ customerId: env.CUSTOMER, featureId: 'feature-02-campaigns', requestedUsage: 1 }));
    } catch {
      await sleep(200); // a busy machine: Redis slower than the command timeout for a moment (503)
    }
  }
  console.log('held ' + leases.filter((lease) => lease.decision.granted).length);
  while (!fs.existsSync(env.GO)) await sleep(50);
  // The responses finish while Redis is down: the store refuses every commit.
  for (const lease of leases) lease.commit();
  await sleep(500);
  console.log('committed');
}
void main();
`;

let emulator: Emulator;
let dir: string;
const scripts: Script[] = [];
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-journal-'));
});

afterAll(async () => {
  for (const script of scripts) script.child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await emulator.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function worker(port: number, journal: string, units: number): Promise<Script> {
  return runScript(WORKER, {
    REDIS: `redis://127.0.0.1:${port}`,
    JOURNAL: journal,
    KEY: emulator.apiKey,
    URL: emulator.url,
    CUSTOMER,
    UNITS: String(units),
    GO: path.join(dir, 'go'),
  }).then((script) => {
    scripts.push(script);
    return script;
  });
}

async function killed(script: Script): Promise<void> {
  script.child.kill('SIGKILL');
  const { signal } = await script.exited;
  expect(signal).toBe('SIGKILL');
}

it('3 processes commit 5 units each while Redis is down and are SIGKILLed: the next processes on their journals deliver all 15, once', async () => {
  const port = await closedPort();
  let redis = await startRedisServer(port);
  cleanups.push(() => stopRedisServer(redis));
  const journals = Array.from({ length: WORKERS }, (_, i) => path.join(dir, `worker-${i}.journal`));
  const first = await Promise.all(journals.map((journal) => worker(port, journal, UNITS)));
  for (const script of first) expect(await script.line(/^held /)).toBe(`held ${UNITS}`);

  await stopRedisServer(redis);
  fs.writeFileSync(path.join(dir, 'go'), '');
  for (const script of first) await script.line(/^committed$/);
  for (const script of first) await killed(script);
  expect(emulator.stats().usage[`${CUSTOMER}||feature-02-campaigns`] ?? 0).toBe(0);

  // Redis back, empty (no persistence); each journal's next process queues what was left in it.
  redis = await startRedisServer(port);
  const second = await Promise.all(journals.map((journal) => worker(port, journal, 0)));
  for (const script of second) await script.line(/^started$/);
  const counted = () => emulator.stats().usage[`${CUSTOMER}||feature-02-campaigns`] ?? 0;
  for (let waited = 0; counted() < WORKERS * UNITS && waited < 20_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  // Nothing more arrives later (a replay counted twice would).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(counted()).toBe(WORKERS * UNITS);
  for (const script of second) await killed(script);
}, 120_000);

it("a journal is one process's: a second store on the same file throws at construction with the fix; a bad path throws too", async () => {
  const url = `redis://127.0.0.1:${await closedPort()}`;
  const file = path.join(dir, 'one.journal');
  const store = new RedisStore({ redis: url, journal: file });
  expect(() => new RedisStore({ redis: url, journal: file })).toThrow(/give each store its own file/);
  await store.close();
  // Closed: the file is free again (its lock file gone).
  expect(fs.existsSync(`${file}.lock`)).toBe(false);
  const again = new RedisStore({ redis: url, journal: file });
  await again.close();
  // A lock of an earlier version (a pid only) naming a process that is alive (the parent of this test runner).
  fs.writeFileSync(`${file}.lock`, String(process.ppid));
  expect(() => new RedisStore({ redis: url, journal: file })).toThrow(/is used by process \d+ .*Give each process its own journal file/);
  fs.rmSync(`${file}.lock`);
  expect(() => new RedisStore({ redis: url, journal: '' })).toThrow(TypeError);
  expect(() => new RedisStore({ redis: url, journal: 3 as unknown as string })).toThrow(/journal must be a file path/);
});
