import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Miniflare } from 'miniflare';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { bundleWorker } from './bundle';

// Inside workerd a timer runs in the request that set it, and what it starts is bound to that
// request. The usage buffer's periodic flush, set by the first request (here a long one), fired
// inside it while a commit's waitUntil delivery was on its way, and queued its drain behind that one;
// the long request ended first, the queued drain never ran nor settled, and every later flush waited
// behind it: nothing was delivered again for the isolate's life (the next customer's unit stayed in
// the outbox). On Workers usage is delivered per invocation (waitUntil), and there is no periodic flush.
// The same hold-up came from a flush not handed to waitUntil (or cut off by its limit): a drain that
// never settles no longer holds up the next one for more than 10 s there.

const TEMPLATES = 'feature-01-templates';
let emu: Emulator;
let mf: Miniflare;
let control: http.Server;
let releaseLong: (() => void) | undefined;
let arrived!: () => void;
const longArrived = new Promise<void>((resolve) => (arrived = resolve));

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: ['cust-i0', 'cust-i1', 'cust-i2', 'cust-i3'].map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
    },
  });
  control = http.createServer((_req, res) => {
    releaseLong = () => res.end('ok');
    arrived();
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', () => resolve()));
  const { code } = await bundleWorker([require.resolve('./interval-worker.ts')]);
  mf = new Miniflare({
    modules: true,
    script: code,
    compatibilityDate: '2026-04-01',
    cf: false,
    bindings: {
      STIGG_API_URL: emu.url,
      STIGG_SERVER_API_KEY: emu.apiKey,
      CONTROL_URL: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
    },
  });
  await mf.ready;
}, 90_000);

afterAll(async () => {
  releaseLong?.();
  await mf?.dispose();
  control?.closeAllConnections();
  await new Promise((resolve) => control?.close(resolve));
  await emu?.stop();
});

const reported = (customer: string): number => emu.stats().usage[`${customer}||${TEMPLATES}`] ?? 0;
const work = (customer: string): Promise<Response> =>
  mf.dispatchFetch('http://worker.test/work', { method: 'POST', headers: { 'x-customer': customer } });

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

test('a long request that ends while a delivery is on its way does not stop the deliveries that follow', async () => {
  const long = mf.dispatchFetch('http://worker.test/long');
  await longArrived;
  emu.setFaults({ latencyMs: 1_500 }); // the commit's delivery is on its way for 1.5 s
  expect((await work('cust-i0')).status).toBe(200);
  // A second of ticks (every 100 ms) while the long request lives, then it ends before the delivery does.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  releaseLong?.();
  expect(await (await long).text()).toBe('long done');
  expect(await until(() => reported('cust-i0') === 1)).toBe(true);
  emu.setFaults({ latencyMs: 0 });
  expect((await work('cust-i1')).status).toBe(200);
  expect(await until(() => reported('cust-i1') === 1)).toBe(true);
  const outbox = async (): Promise<number> =>
    ((await (await mf.dispatchFetch('http://worker.test/outbox')).json()) as { depth: number }).depth;
  expect(await until(async () => (await outbox()) === 0)).toBe(true);
}, 60_000);

test('a delivery left behind in a request that ended does not stop the deliveries that follow', async () => {
  emu.setFaults({ latencyMs: 1_500 });
  expect(await (await mf.dispatchFetch('http://worker.test/fire?customer=cust-i2', { method: 'POST' })).text()).toBe('fired');
  emu.setFaults({ latencyMs: 0 });
  // The next delivery waits for the one left behind for 10 s at most, then goes (before: never).
  expect((await work('cust-i3')).status).toBe(200);
  expect(await until(() => reported('cust-i3') === 1, 30_000)).toBe(true);
}, 60_000);
