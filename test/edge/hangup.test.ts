import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Miniflare } from 'miniflare';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import { bundleWorker } from './bundle';

// Issue 23's settlement table inside workerd (Hono through miniflare): every row of the Node table
// (test/middleware/settlement.test.ts), the same units. What workerd does, measured here and in
// docs/hono.md ("Hang-ups on Workers"):
//   - A client that hangs up is seen by workerd when its connection resets (RST): the request is
//     cancelled, and the work still pending for it is dropped unless a waitUntil promise holds it
//     (up to 30 s). So the gate holds the request in waitUntil from before the handler runs until its
//     grant is settled; without it, a handler at work when its client left was cut off at its next
//     await and its grant never settled (reserved in the isolate, 0 reported: free work once it lapsed).
//     The clients below hang up with resetAndDestroy(): a FIN alone (destroy()) is not noticed by
//     workerd until a write to it fails, and miniflare's dispatchFetch hands a streamed body over only
//     once it ended (its first chunk never arrives alone), so hang-ups go through raw sockets.
//   - Before the decision nothing holds the request: its customer resolver's call is dropped, no grant
//     is made, the handler never runs (Node: a grant released; the same 0 units).
//   - A body the runtime stops sending without cancelling it (its write failed: the client left, or
//     the request was cancelled before the handler returned) is read out by the gate after a grace
//     of 5 s (src/middleware/fetch-body.ts): to its end, the handler completed its answer.
// Every step of the worker is announced to, and released by, the control server below (a loopback
// fetch), never a timer. The worker's periodic flush is an hour away; its /usage route flushes and
// reads the usage the isolate decides with (units used plus units still reserved), so a reservation
// left behind shows, with how often the handler ran and how its lease was settled.

const TEMPLATES = 'feature-01-templates';
const CUSTOMERS = Array.from({ length: 20 }, (_, i) => `cust-w${i}`);
const catalog: Catalog = {
  ...defaultCatalog,
  customers: CUSTOMERS.map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
};
/** Steps the worker waits on until the test answers them. */
const HELD = new Set(['arrived', 'go', 'rest']);

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let emu: Emulator;
let mf: Miniflare;
let workerUrl: URL;
let controlServer: http.Server;
const hits = new Map<string, Deferred<void>>();
const answers = new Map<string, Deferred<string>>();
const slot = <T>(map: Map<string, Deferred<T>>, key: string): Deferred<T> => {
  let d = map.get(key);
  if (d === undefined) map.set(key, (d = deferred<T>()));
  return d;
};
const reached = (step: string, id: string): Promise<void> => slot(hits, `${step}/${id}`).promise;
const answer = (step: string, id: string, text = 'ok'): void => slot(answers, `${step}/${id}`).resolve(text);

beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
  controlServer = http.createServer((req, res) => {
    const key = (req.url ?? '').slice(1);
    slot(hits, key).resolve();
    // The worker dropped the call before it was answered: its request was cancelled.
    res.on('close', () => res.writableEnded || slot(hits, `cancelled/${key}`).resolve());
    const step = key.split('/')[0] ?? '';
    void (HELD.has(step) ? slot(answers, key).promise : Promise.resolve('ok')).then((text) => res.end(text));
  });
  await new Promise<void>((resolve) => controlServer.listen(0, '127.0.0.1', () => resolve()));
  const { code } = await bundleWorker([require.resolve('./hangup-worker.ts')]);
  mf = new Miniflare({
    modules: true,
    script: code,
    compatibilityDate: '2026-04-01',
    cf: false,
    bindings: {
      STIGG_API_URL: emu.url,
      STIGG_SERVER_API_KEY: emu.apiKey,
      CONTROL_URL: `http://127.0.0.1:${(controlServer.address() as AddressInfo).port}`,
    },
  });
  workerUrl = await mf.ready;
}, 90_000);

afterAll(async () => {
  for (const d of answers.values()) d.resolve('end');
  await mf?.dispose();
  controlServer?.closeAllConnections();
  await new Promise((resolve) => controlServer?.close(resolve));
  await emu?.stop();
});

const reported = (customer: string): number => emu.stats().usage[`${customer}||${TEMPLATES}`] ?? 0;

interface Seen {
  /** Units Stigg counts. */
  reported: number;
  /** Units the isolate decides with (used + still reserved). */
  isolate: number;
  /** How often the handler ran. */
  runs: number;
  /** How the request's lease was settled ('commit', 'release', 'settle 2'). */
  settled: string[];
}

/** Flushes inside the isolate and reads what it knows of `customer`. */
async function isolateView(customer: string): Promise<Omit<Seen, 'reported'>> {
  const res = await mf.dispatchFetch(`http://worker.test/usage?customer=${customer}`);
  const view = (await res.json()) as { currentUsage: number; runs: number; settled: string[] };
  return { isolate: view.currentUsage, runs: view.runs, settled: view.settled };
}

/** Until the lease is settled, Stigg counts `units` and the isolate holds nothing more; the figures seen last. */
async function settledTo(customer: string, units: number, settled: string[]): Promise<Seen> {
  const deadline = Date.now() + 20_000;
  let seen: Seen = { reported: -1, isolate: -1, runs: -1, settled: [] };
  while (Date.now() < deadline) {
    seen = { ...(await isolateView(customer)), reported: reported(customer) };
    if (seen.settled.join() === settled.join() && seen.reported === units && seen.isolate === units) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return seen;
}

function send(customer: string, mode: string, onAbort = 'commit', units?: number): Promise<Response> {
  const headers: Record<string, string> = { 'x-customer': customer, 'x-id': customer, 'x-mode': mode, 'x-on-abort': onAbort };
  if (units !== undefined) headers['x-units'] = String(units);
  return mf.dispatchFetch('http://worker.test/work', { method: 'POST', headers });
}

interface Case {
  name: string;
  customer: string;
  units: number;
  runs: 0 | 1;
  /** How its lease was settled; undefined: no lease was taken (the decision was never made). */
  settled: string | undefined;
  run: (customer: string) => Promise<void>;
}

/**
 * A request on a raw socket to workerd, so the test decides when the client hangs up (miniflare's
 * dispatchFetch hands a streamed body over only once it ended: its first chunk never arrives alone).
 */
function rawSend(
  customer: string,
  mode: string,
  onAbort: string,
  { read = true }: { read?: boolean } = {},
): { received: (text: string) => Promise<void>; leave: () => void } {
  const socket = net.connect(Number(workerUrl.port), workerUrl.hostname);
  if (!read) socket.pause(); // a client that never reads: the answer stays in the buffers on the way
  socket.on('error', () => {});
  socket.setEncoding('utf8');
  let data = '';
  const waiting: Array<{ text: string; resolve: () => void }> = [];
  socket.on('data', (chunk: string) => {
    data += chunk;
    for (const w of waiting) if (data.includes(w.text)) w.resolve();
  });
  const received = (text: string): Promise<void> =>
    new Promise((resolve) => (data.includes(text) ? resolve() : waiting.push({ text, resolve })));
  socket.write(
    `POST /work HTTP/1.1\r\nHost: worker.test\r\nx-customer: ${customer}\r\nx-id: ${customer}\r\nx-mode: ${mode}\r\n` +
      `x-on-abort: ${onAbort}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
  );
  return { received, leave: () => socket.resetAndDestroy() };
}

/** The client reads the first chunk of a stream, then leaves; the worker's stream goes on afterwards. */
async function leaveMidStream(customer: string, onAbort: string): Promise<void> {
  const raw = rawSend(customer, 'stream', onAbort);
  await raw.received('first chunk');
  raw.leave();
  answer('rest', customer, 'end');
}

const cases: Case[] = [
  {
    name: 'client gone before the decision: no grant, the handler never runs',
    customer: 'cust-w0',
    units: 0,
    runs: 0,
    settled: undefined,
    async run(customer) {
      const raw = rawSend(customer, 'late', 'commit');
      await reached('arrived', customer);
      raw.leave();
      // workerd cancels the request: the call its customer resolver waits on is dropped unanswered.
      await reached('cancelled/arrived', customer);
    },
  },
  {
    name: 'client gone while the handler works: it still answers, so it is reported',
    customer: 'cust-w1',
    units: 1,
    runs: 1,
    settled: 'commit',
    async run(customer) {
      const raw = rawSend(customer, 'hold', 'commit');
      await reached('started', customer);
      raw.leave();
      answer('go', customer);
    },
  },
  ...(
    [
      ['commit', 'cust-w2', 1, 'commit'],
      ['release', 'cust-w3', 0, 'release'],
      ['function', 'cust-w4', 2, 'settle 2'],
    ] as const
  ).map(([policy, customer, units, settled]) => ({
    name: `client gone mid-stream, onAbort ${policy}`,
    customer,
    units,
    runs: 1 as const,
    settled,
    run: (id: string) => leaveMidStream(id, policy),
  })),
  ...(
    [
      ['commit', 'cust-w5'],
      ['release', 'cust-w6'],
    ] as const
  ).map(([policy, customer]) => ({
    name: `a stream read to its end, onAbort ${policy}`,
    customer,
    units: 1,
    runs: 1 as const,
    settled: 'commit',
    async run(id: string) {
      const res = await send(id, 'stream', policy);
      answer('rest', id, 'end');
      expect(await res.text()).toContain('last chunk');
    },
  })),
  ...(
    [
      ['commit', 'cust-w10', 1],
      ['release', 'cust-w7', 0],
    ] as const
  ).map(([policy, customer, units]) => ({
    name: `a stream that breaks after it started: onAbort ${policy}`,
    customer,
    units,
    runs: 1 as const,
    settled: policy,
    async run(id: string) {
      const res = await send(id, 'stream', policy);
      answer('rest', id, 'fail');
      await res.text().catch(() => undefined);
    },
  })),
  {
    name: "a complete answer the client never reads (it leaves), onAbort 'release': the handler completed, so it is reported",
    customer: 'cust-w11',
    units: 1,
    runs: 1,
    settled: 'commit',
    async run(customer) {
      const raw = rawSend(customer, 'big', 'release', { read: false });
      await reached('sent', customer);
      raw.leave();
    },
  },
  ...(
    [
      ['the handler throws', 'throw', 'cust-w8', 500],
      ['the handler throws synchronously', 'throw-sync', 'cust-w12', 500],
      ['the handler answers 4xx', '4xx', 'cust-w9', 409],
      ['the handler answers 5xx', '5xx', 'cust-w13', 503],
    ] as const
  ).map(([name, mode, customer, status]) => ({
    name,
    customer,
    units: 0,
    runs: 1 as const,
    settled: 'release',
    async run(id: string) {
      expect((await send(id, mode)).status).toBe(status);
    },
  })),
  ...(
    [
      [0, 'cust-w14'],
      [2, 'cust-w15'],
      [0.5, 'cust-w16'],
    ] as const
  ).map(([actual, customer]) => ({
    name: `the route settles ${actual} units of the 1 it reserved`,
    customer,
    units: actual,
    runs: 1 as const,
    settled: `settle ${actual}`,
    async run(id: string) {
      expect((await send(id, 'settle', 'commit', actual)).status).toBe(200);
    },
  })),
  {
    name: 'the route settles, then answers 4xx: its own count stands',
    customer: 'cust-w17',
    units: 2,
    runs: 1,
    settled: 'settle 2',
    async run(customer) {
      expect((await send(customer, 'settle-4xx', 'commit', 2)).status).toBe(422);
    },
  },
];

describe('stigg-gate/hono inside workerd: the settlement table (issue 23)', () => {
  test.each(cases)(
    '$name: $units units reported',
    async ({ customer, units, runs, settled, run }) => {
      await run(customer);
      const expected = settled === undefined ? [] : [settled];
      expect(await settledTo(customer, units, expected)).toEqual({ reported: units, isolate: units, runs, settled: expected });
    },
    45_000,
  );
});
