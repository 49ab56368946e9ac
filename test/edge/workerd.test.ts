import { Miniflare } from 'miniflare';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import { PROBLEM_TYPE_PREFIX } from '../../src/middleware/problem';
import { bundleWorker } from './bundle';

// The Hono app of ./worker.ts, bundled with esbuild and run inside workerd (Cloudflare's runtime,
// from npm through miniflare) against the emulator on loopback: the same assertions as the Node
// table. Its periodic flush is an hour away, so usage reaching the emulator proves the delivery ran
// in the request's waitUntil.

const TEMPLATES = 'feature-01-templates';
const ANALYTICS = 'feature-04-analytics';
const catalog: Catalog = {
  ...defaultCatalog,
  customers: [
    { id: 'cust-basic', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
    { id: 'cust-settle', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
  ],
};

let emu: Emulator;
let mf: Miniflare;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
  const { code } = await bundleWorker();
  mf = new Miniflare({
    modules: true,
    script: code,
    compatibilityDate: '2026-04-01',
    // The Request.cf placeholder, not the one miniflare would download from Cloudflare: no network in tests.
    cf: false,
    bindings: { STIGG_API_URL: emu.url, STIGG_SERVER_API_KEY: emu.apiKey },
  });
  await mf.ready;
}, 90_000);

afterAll(async () => {
  await mf?.dispose();
  await emu?.stop();
});

function usage(customerId: string, featureId: string): number {
  return emu.stats().usage[`${customerId}||${featureId}`] ?? 0;
}

async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the usage to reach the emulator');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function post(path: string, customer?: string) {
  return mf.dispatchFetch(`http://worker.test${path}`, {
    method: 'POST',
    headers: customer === undefined ? {} : { 'x-customer': customer },
  });
}

describe('stigg-gate/hono inside workerd', () => {
  test('three templates granted, a 402 problem on the fourth, and exactly 3 units delivered through waitUntil', async () => {
    for (let i = 0; i < 3; i += 1) {
      const res = await post('/templates', 'cust-basic');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        entitlement: { granted: true, featureId: TEMPLATES, requestedUsage: 1, usageLimit: 3 },
      });
    }
    const res = await post('/templates', 'cust-basic');
    expect(res.status).toBe(402);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await res.json()).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}requested-usage-exceeding-limit`,
      title: 'Usage limit reached',
      status: 402,
      detail: `Requesting 1 more of feature "${TEMPLATES}" would exceed the limit of 3 (3 used).`,
      featureId: TEMPLATES,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      requestedUsage: 1,
      currentUsage: 3,
      usageLimit: 3,
      remaining: 0,
      usagePeriodEnd: null,
    });
    await eventually(() => usage('cust-basic', TEMPLATES) === 3);
    expect(emu.stats().operations.reportUsageBulk ?? 0).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(usage('cust-basic', TEMPLATES)).toBe(3);
  }, 60_000);

  test('a route that settles 2 units of the 1 it reserved: 2 delivered through waitUntil (issue 23)', async () => {
    const res = await post('/campaigns-settled', 'cust-settle');
    expect(res.status).toBe(200);
    await eventually(() => usage('cust-settle', 'feature-02-campaigns') === 2);
  }, 30_000);

  test('a boolean feature outside the plan answers 402 with its reason; no customer answers 401', async () => {
    const denied = await mf.dispatchFetch('http://worker.test/analytics', { headers: { 'x-customer': 'cust-basic' } });
    expect(denied.status).toBe(402);
    expect(await denied.json()).toMatchObject({
      status: 402,
      featureId: ANALYTICS,
      accessDeniedReason: 'NoFeatureEntitlementInSubscription',
    });
    const anonymous = await post('/templates');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({
      status: 401,
      type: `${PROBLEM_TYPE_PREFIX}no-customer`,
      featureId: TEMPLATES,
    });
  }, 30_000);
});
