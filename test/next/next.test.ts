import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';

// stigg-gate/next in a real Next.js app (App Router route handlers, `next dev` on Turbopack), the
// sixth framework of issue 24 and a row set of issue 23's settlement table: the app in ./fixture
// imports the built package (fixture/node_modules/stigg-gate links to the repository), its engine
// talks to the emulator over loopback, and delivers usage through Next's after() (its periodic flush
// is an hour away). Every hang-up is timed by the app's own announcements to the control server here.

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join(__dirname, 'fixture');
const TEMPLATES = 'feature-01-templates';
const CUSTOMERS = Array.from({ length: 12 }, (_, i) => `cust-n${i}`);
const BOOT_MS = 240_000;

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Steps the app announced, by `${step}:${customer}`, and the held ones' release. */
const arrived = new Map<string, Deferred<void>>();
const held = new Map<string, Deferred<void>>();
const slot = (map: Map<string, Deferred<void>>, key: string) => map.get(key) ?? map.set(key, deferred()).get(key)!;
const seen = (step: string, customer: string) => slot(arrived, `${step}:${customer}`).promise;
const release = (step: string, customer: string) => slot(held, `${step}:${customer}`).resolve();
const runs = new Map<string, number>();

let emu: Emulator;
let control: http.Server;
let next: ChildProcess;
let base: string;
let output = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

async function waitForApp(): Promise<void> {
  const deadline = Date.now() + BOOT_MS;
  for (;;) {
    if (next.exitCode !== null) throw new Error(`next dev exited (${next.exitCode}):\n${output}`);
    try {
      // 401 (no customer) once the route compiled: the app is up and the package loaded.
      const res = await fetch(`${base}/api/work`, { method: 'POST' });
      if (res.status === 401) return;
      throw new Error(`the app answered ${res.status}: ${(await res.text()).slice(0, 2_000)}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('the app answered')) throw error;
      if (Date.now() > deadline) throw new Error(`next dev did not answer within ${BOOT_MS} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

beforeAll(async () => {
  for (const entry of ['package.json', 'dist/module/next.mjs', 'node_modules/next/package.json']) {
    if (!fs.existsSync(path.join(ROOT, entry)))
      throw new Error(`${entry} is missing: run npm ci and npm run build first (npm test does both).`);
  }
  fs.mkdirSync(path.join(FIXTURE, 'node_modules'), { recursive: true });
  const link = path.join(FIXTURE, 'node_modules', 'stigg-gate');
  if (!fs.existsSync(link)) fs.symlinkSync(path.relative(path.dirname(link), ROOT), link, 'dir');

  emu = await startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: CUSTOMERS.map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })) },
  });
  control = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const key = `${url.searchParams.get('step')}:${url.searchParams.get('customer')}`;
    if (key.startsWith('ran:')) runs.set(key, (runs.get(key) ?? 0) + 1);
    slot(arrived, key).resolve();
    if (url.pathname === '/wait') void slot(held, key).promise.then(() => res.end('go'));
    else res.end('ok');
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  next = spawn(process.execPath, [path.join(ROOT, 'node_modules/next/dist/bin/next'), 'dev', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: FIXTURE,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      NEXT_TELEMETRY_DISABLED: '1',
      STIGG_API_URL: emu.url,
      STIGG_SERVER_API_KEY: emu.apiKey,
      CONTROL_URL: `http://127.0.0.1:${(control.address() as net.AddressInfo).port}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  next.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  next.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitForApp();
}, BOOT_MS + 30_000);

afterAll(async () => {
  if (next !== undefined && next.exitCode === null) {
    const exited = new Promise((resolve) => next.once('exit', resolve));
    next.kill('SIGTERM');
    await exited;
  }
  await new Promise((resolve) => control?.close(resolve));
  await emu?.stop();
});

/** Units the emulator counted for `customer`, once what the app settled was delivered (after() flushes). */
async function reported(customer: string, expected: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  const read = () => emu.stats().usage[`${customer}||${TEMPLATES}`] ?? 0;
  while (read() !== expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return read();
}

function post(route: string, customer: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${route}`, {
    method: 'POST',
    headers: { ...(customer === undefined ? {} : { 'x-customer': customer }), ...headers },
  });
}

/** A request on a raw socket, so the test decides when the client hangs up. */
function rawPost(route: string, headers: Record<string, string>): { received: (text: string) => Promise<void>; leave: () => void } {
  const url = new URL(base);
  const socket = net.connect(Number(url.port), url.hostname);
  socket.on('error', () => undefined);
  let all = '';
  const waits: Array<{ text: string; done: Deferred<void> }> = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    all += chunk;
    for (const wait of waits) if (all.includes(wait.text)) wait.done.resolve();
  });
  const lines = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`POST ${route} HTTP/1.1\r\nHost: ${url.host}\r\n${lines}Connection: close\r\nContent-Length: 0\r\n\r\n`);
  return {
    received(text) {
      const done = deferred();
      waits.push({ text, done });
      if (all.includes(text)) done.resolve();
      return done.promise;
    },
    leave: () => void socket.destroy(),
  };
}

test('grants to the limit, then 402 with the reason and RateLimit fields; 401 without a customer; every grant delivered', async () => {
  const customer = CUSTOMERS[0]!;
  const statuses = [];
  for (let i = 0; i < 3; i += 1) {
    const res = await post('/api/work', customer);
    statuses.push(res.status);
    expect(res.headers.get('ratelimit')).toBe(`"${TEMPLATES}";r=${2 - i}`);
  }
  const denied = await post('/api/work', customer);
  expect([...statuses, denied.status]).toEqual([200, 200, 200, 402]);
  expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json(;|$)/);
  expect(await denied.json()).toMatchObject({ accessDeniedReason: 'RequestedUsageExceedingLimit', remaining: 0, usageLimit: 3 });
  expect((await post('/api/work', undefined)).status).toBe(401);
  expect(await reported(customer, 3)).toBe(3);
});

test.each([
  ['the handler throws', 'throw', 500],
  ['the handler answers 4xx', 'conflict', 409],
])('%s: released, 0 units', async (_name, mode, status) => {
  const customer = mode === 'throw' ? CUSTOMERS[1]! : CUSTOMERS[2]!;
  const res = await post('/api/work', customer, { 'x-mode': mode });
  expect(res.status).toBe(status);
  await seen('settled-release', customer);
  expect(runs.get(`ran:${customer}`)).toBe(1);
  // The reservation came back: three more grants fit under the limit of 3.
  for (let i = 0; i < 3; i += 1) expect((await post('/api/work', customer)).status).toBe(200);
  expect(await reported(customer, 3)).toBe(3);
});

test('settle(units): the actual units are reported instead of the reservation', async () => {
  const customer = CUSTOMERS[3]!;
  expect((await post('/api/work', customer, { 'x-mode': 'settle', 'x-units': '2' })).status).toBe(200);
  await seen('settled-settle2', customer);
  expect(await reported(customer, 2)).toBe(2);
});

test('the client gone before the decision: released, the handler never runs', async () => {
  const customer = CUSTOMERS[4]!;
  const raw = rawPost('/api/work', { 'x-customer': customer, 'x-hold': 'decision' });
  await seen('decide', customer);
  raw.leave();
  await seen('aborted', customer);
  release('decide', customer);
  await seen('settled-release', customer);
  expect(runs.get(`ran:${customer}`)).toBeUndefined();
  expect((await post('/api/work', customer)).status).toBe(200);
  expect(await reported(customer, 1)).toBe(1);
});

test('the client gone while the handler works: the handler still answers, so it is reported', async () => {
  const customer = CUSTOMERS[5]!;
  const raw = rawPost('/api/work', { 'x-customer': customer, 'x-mode': 'hold' });
  await seen('work', customer);
  raw.leave();
  await seen('aborted', customer);
  release('work', customer);
  await seen('settled-commit', customer);
  expect(runs.get(`ran:${customer}`)).toBe(1);
  expect(await reported(customer, 1)).toBe(1);
});

test('a stream read to its end: 1 unit', async () => {
  const customer = CUSTOMERS[6]!;
  const res = await post('/api/stream', customer);
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value);
  release('rest', customer);
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value);
  expect(text).toBe('first chunk\nlast\n');
  await seen('settled-commit', customer);
  expect(await reported(customer, 1)).toBe(1);
});

test("the client gone mid-stream: onAbort 'commit' (the default) reports the work", async () => {
  const customer = CUSTOMERS[7]!;
  const raw = rawPost('/api/stream', { 'x-customer': customer });
  await raw.received('first chunk');
  raw.leave();
  await seen('aborted', customer);
  release('rest', customer);
  await seen('settled-commit', customer);
  expect(await reported(customer, 1)).toBe(1);
});

test("a stream that breaks after it started: onAbort 'commit' reports the work", async () => {
  const customer = CUSTOMERS[8]!;
  const raw = rawPost('/api/stream', { 'x-customer': customer, 'x-mode': 'break' });
  await raw.received('first chunk');
  release('rest', customer);
  await seen('settled-commit', customer);
  raw.leave();
  expect(await reported(customer, 1)).toBe(1);
});
