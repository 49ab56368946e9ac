/**
 * The admin commands a person sends with curl (POST /admin/…, behind the API key): each changes what
 * the GraphQL API then answers, as the client sees it.
 */
import { StiggClient } from '../../src/client';
import { defaultCatalog, demoCustomers, startEmulator, type Emulator } from '../../src/emulator';

let emulator: Emulator;
let client: StiggClient;
let origin: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, catalog: { ...defaultCatalog, customers: demoCustomers } });
  client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  origin = emulator.url.replace(/\/graphql$/, '');
});
afterEach(() => emulator.reset());
afterAll(() => emulator.stop());

async function admin(path: string, body?: unknown, init: { method?: string; key?: string | null } = {}) {
  const key = init.key === undefined ? emulator.apiKey : init.key;
  const res = await fetch(`${origin}/admin/${path}`, {
    method: init.method ?? 'POST',
    headers: key === null ? {} : { 'x-api-key': key },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const check = (customerId: string, featureId: string, requestedUsage?: number) =>
  client.getEntitlement({ customerId, featureId, ...(requestedUsage === undefined ? {} : { options: { requestedUsage } }) });

describe('emulator admin commands', () => {
  it('sets the plan of an existing customer: the new limits apply at once, and the answer lists them', async () => {
    expect(await check('demo-basic', 'feature-04-analytics')).toMatchObject({ isGranted: false });
    const { status, body } = await admin('customers/demo-basic/plan', { planId: 'plan-revvenu-growth' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ customerId: 'demo-basic', planId: 'plan-revvenu-growth', status: 'SUCCESS' });
    expect(body.entitlements).toContainEqual(expect.objectContaining({ featureId: 'feature-02-campaigns', usageLimit: 100 }));
    expect(await check('demo-basic', 'feature-04-analytics')).toMatchObject({ isGranted: true });
  });

  it('provisions a customer it does not know yet on that plan', async () => {
    const { status } = await admin('customers/walk-in/plan', { planId: 'plan-revvenu-basic' });
    expect(status).toBe(200);
    expect(await check('walk-in', 'feature-02-campaigns', 4)).toMatchObject({ isGranted: true, usageLimit: 4 });
  });

  it('adds usage (a DELTA report): the limit is reached', async () => {
    const { status, body } = await admin('customers/demo-basic/usage', { featureId: 'feature-02-campaigns', value: 4 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ featureId: 'feature-02-campaigns', currentUsage: 4 });
    expect(await check('demo-basic', 'feature-02-campaigns', 1)).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      currentUsage: 4,
    });
  });

  it('grants a promotion (one month unless said otherwise)', async () => {
    const { status, body } = await admin('customers/demo-basic/promotion', { featureId: 'feature-04-analytics' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ featureId: 'feature-04-analytics', period: 'ONE_MONTH', endDate: expect.any(String) });
    expect(await check('demo-basic', 'feature-04-analytics')).toMatchObject({ isGranted: true });
  });

  it('resets to the catalog', async () => {
    await admin('customers/demo-basic/usage', { featureId: 'feature-02-campaigns', value: 4 });
    expect(await admin('reset')).toEqual({ status: 200, body: { reset: true } });
    expect(await check('demo-basic', 'feature-02-campaigns', 4)).toMatchObject({ isGranted: true, currentUsage: 0 });
  });

  it('refuses without the API key, and changes nothing', async () => {
    expect((await admin('customers/demo-basic/usage', { featureId: 'feature-02-campaigns', value: 4 }, { key: null })).status).toBe(401);
    expect((await admin('reset', undefined, { key: 'wrong' })).status).toBe(401);
    expect(await check('demo-basic', 'feature-02-campaigns', 4)).toMatchObject({ isGranted: true });
  });

  it('answers 400 naming the problem: unknown plan or feature, missing or mistyped fields, a body that is not JSON', async () => {
    const unknownPlan = await admin('customers/demo-basic/plan', { planId: 'plan-nope' });
    expect(unknownPlan.status).toBe(400);
    expect(unknownPlan.body.errors[0].message).toMatch(/plan-nope/);
    expect((await admin('customers/demo-basic/usage', { featureId: 'feature-02-campaigns' })).body.errors[0].message).toMatch(
      /"value" must be a number/,
    );
    expect((await admin('customers/demo-basic/usage', { featureId: 'feature-04-analytics', value: 1 })).status).toBe(400);
    expect((await admin('customers/nobody/usage', { featureId: 'feature-02-campaigns', value: 1 })).status).toBe(400);
    expect((await admin('customers/demo-basic/plan', 'planId=x')).status).toBe(400);
    expect((await admin('customers/demo-basic/plan', [])).status).toBe(400);
  });

  it('answers 404 for an unknown command and 405 for a GET', async () => {
    const unknown = await admin('customers/demo-basic/archive', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0].message).toMatch(/\/plan, \/usage, \/promotion/);
    expect((await admin('reset', undefined, { method: 'GET' })).status).toBe(405);
  });
});
