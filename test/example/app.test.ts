import 'reflect-metadata';
import request from 'supertest';
import { Stigg, createEntitlements, type Entitlements, type StiggClient } from 'stigg-gate';
import { startEmulator, type Emulator } from 'stigg-gate/emulator';
import { createApp } from '../../examples/express-app/src/app';
import { provisionDemoCustomers } from '../../examples/express-app/src/demo';

const basic = { Authorization: 'Bearer token-basic' };
const growth = { Authorization: 'Bearer token-growth' };

let emulator: Emulator;
let client: StiggClient;
let entitlements: Entitlements;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  emulator = await startEmulator();
  client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url });
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(async () => {
  emulator.reset();
  await provisionDemoCustomers(client);
  entitlements = createEntitlements({ client });
  app = createApp({ client, entitlements });
});

afterEach(async () => {
  await entitlements.close();
});

function usage(customerId: string, featureId: string): number {
  return emulator.stats().usage[`${customerId}||${featureId}`] ?? 0;
}

describe('the example app', () => {
  it('walks the story: a grant, a 402 with its reason, a 403, an upgrade that lifts the limit, and the usage reaches Stigg', async () => {
    await request(app).post('/templates').set(basic).send({ name: 'Welcome' }).expect(201);

    const exceeded = await request(app).post('/campaigns').set(basic).send({ count: 5 }).expect(402);
    expect(exceeded.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(exceeded.body).toMatchObject({
      status: 402,
      featureId: 'feature-02-campaigns',
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      requestedUsage: 5,
      usageLimit: 4,
    });

    const archived = await request(app).get('/analytics').set({ Authorization: 'Bearer token-archived' }).expect(403);
    expect(archived.body).toMatchObject({ status: 403, featureId: 'feature-04-analytics', accessDeniedReason: 'CustomerIsArchived' });

    const upgraded = await request(app).post('/upgrade').set(basic).send({ planId: 'plan-revvenu-growth' }).expect(200);
    expect(upgraded.body).toMatchObject({ customerId: 'demo-basic', planId: 'plan-revvenu-growth' });

    const created = await request(app).post('/campaigns').set(basic).send({ count: 5 }).expect(201);
    expect(created.body.created).toHaveLength(5);
    await request(app).get('/analytics').set(basic).expect(200);

    await entitlements.close();
    expect(usage('demo-basic', 'feature-01-templates')).toBe(1);
    expect(usage('demo-basic', 'feature-02-campaigns')).toBe(5);
  });

  it('grants exactly the plan limit and never runs the handler of a denied request', async () => {
    for (let i = 0; i < 3; i += 1) await request(app).post('/templates').set(basic).expect(201);
    const denied = await request(app).post('/templates').set(basic).expect(402);
    expect(denied.body).toMatchObject({ accessDeniedReason: 'RequestedUsageExceedingLimit', usageLimit: 3, currentUsage: 3 });

    const listed = await request(app).get('/templates').set(basic).expect(200);
    expect(listed.body).toHaveLength(3);
    await entitlements.flush();
    expect(usage('demo-basic', 'feature-01-templates')).toBe(3);
  });

  it('gates a decorated service method through the request context', async () => {
    const denied = await request(app).get('/reports/monthly').set(basic).expect(402);
    expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(denied.body).toMatchObject({ featureId: 'feature-04-analytics', accessDeniedReason: 'NoFeatureEntitlementInSubscription' });

    const report = await request(app).get('/reports/monthly?month=2026-01').set(growth).expect(200);
    expect(report.body).toMatchObject({ month: '2026-01' });
  });

  it('gates the boolean custom-domain feature by plan', async () => {
    const denied = await request(app).put('/custom-domain').set(basic).send({ domain: 'ada.example' }).expect(402);
    expect(denied.body).toMatchObject({ featureId: 'feature-03-custom-domain', accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
    const granted = await request(app).put('/custom-domain').set(growth).send({ domain: 'grace.example' }).expect(200);
    expect(granted.body).toMatchObject({ domain: 'grace.example' });
  });

  it('answers 402 NoActiveSubscription for a customer without a plan, until an upgrade', async () => {
    const noPlan = { Authorization: 'Bearer token-no-plan' };
    const denied = await request(app).post('/templates').set(noPlan).expect(402);
    expect(denied.body).toMatchObject({ accessDeniedReason: 'NoActiveSubscription' });
    await request(app).post('/upgrade').set(noPlan).send({ planId: 'plan-revvenu-essentials' }).expect(200);
    await request(app).post('/templates').set(noPlan).expect(201);
    await request(app).put('/custom-domain').set(noPlan).expect(200);
    await request(app).get('/analytics').set(noPlan).expect(402);
  });

  it('answers 401 without a user, 400 for a usage that is not a count, and 400 for an unknown plan', async () => {
    await request(app).post('/templates').expect(401);
    await request(app).post('/templates').set({ Authorization: 'Bearer nobody' }).expect(401);
    const invalid = await request(app).post('/campaigns').set(basic).send({ count: -2 }).expect(400);
    expect(invalid.headers['content-type']).toMatch(/^application\/problem\+json/);
    await request(app).post('/campaigns').set(basic).send({}).expect(400);
    await request(app).post('/campaigns').set(basic).send({ count: 2.5 }).expect(400);
    await request(app).post('/campaigns').set(basic).send({ count: '3' }).expect(400);
    const plan = await request(app).post('/upgrade').set(basic).send({ planId: 'plan-revvenu-platinum' }).expect(400);
    expect(plan.body.detail).toContain('plan-revvenu-growth');

    await entitlements.flush();
    expect(usage('demo-basic', 'feature-02-campaigns')).toBe(0);
  });

  it('answers 503 with Retry-After on a gated route and 502 on the upgrade while Stigg is unreachable', async () => {
    emulator.setFaults({ failureRate: 1 });
    try {
      const unavailable = await request(app).get('/analytics').set(growth).expect(503);
      expect(unavailable.headers['retry-after']).toBe('5');
      expect(unavailable.body).toMatchObject({ status: 503, featureId: 'feature-04-analytics' });
      const upgrade = await request(app).post('/upgrade').set(basic).send({ planId: 'plan-revvenu-growth' }).expect(502);
      expect(upgrade.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(upgrade.body)).not.toContain(emulator.apiKey);
    } finally {
      emulator.setFaults({ failureRate: 0 });
    }
    await request(app).get('/analytics').set(growth).expect(200);
  });

  it('rejects missing dependencies at construction', () => {
    expect(() => createApp({ entitlements } as unknown as Parameters<typeof createApp>[0])).toThrow(TypeError);
    expect(() => createApp({ client } as unknown as Parameters<typeof createApp>[0])).toThrow(/createEntitlements/);
  });
});
