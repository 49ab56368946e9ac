import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import request from 'supertest';
import { handleStiggWebhook, stiggFetchWebhook } from '../../src';
import { stiggWebhook as expressWebhook } from '../../src/middleware/express';
import { stiggWebhook as fastifyWebhook } from '../../src/middleware/fastify';
import { stiggWebhook as honoWebhook } from '../../src/middleware/hono';
import { stiggWebhook as koaWebhook } from '../../src/middleware/koa';
import { secretMatches } from '../../src/webhook/secret';

const SECRET = 'whsec-test-0123456789';

function entitlementsUpdated(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    messageId: 'msg-1',
    traceId: 'trace-1',
    timestamp: '2026-11-26T12:00:00.000Z',
    type: 'entitlements.updated',
    trigger: 'subscription_updated',
    customer: { id: 'customer-1' },
    resource: null,
    entitlements: [
      {
        feature: { id: 'feature-04-analytics', featureType: 'BOOLEAN', meterType: 'None' },
        usageLimit: null,
        hasUnlimitedUsage: false,
        hasSoftLimit: false,
        currentUsage: 0,
        usagePeriodEnd: null,
        resetPeriod: null,
      },
    ],
    entitlementsUpdatedAt: '2026-11-26T12:00:00.000Z',
    environmentId: 'env-1',
    eventId: 'event-1',
    ...overrides,
  };
}

function subscriptionEvent(type: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    messageId: 'msg-s',
    traceId: 'trace-s',
    timestamp: '2026-11-26T12:00:01.000Z',
    type,
    customer: { id: 'customer-1' },
    subscription: { id: 'subscription-1', status: 'ACTIVE', plan: { id: 'plan-revvenu-growth' } },
    eventId: 'event-s',
    ...overrides,
  };
}

function recorder(fail = false): { invalidated: string[]; entitlements: { invalidate(customerId: string): Promise<void> } } {
  const invalidated: string[] = [];
  return {
    invalidated,
    entitlements: {
      invalidate: async (customerId: string) => {
        if (fail) throw new Error('Redis is not answering');
        invalidated.push(customerId);
      },
    },
  };
}

const headers = { 'stigg-webhooks-secret': SECRET, 'content-type': 'application/json' };

describe('handleStiggWebhook', () => {
  it('invalidates the customer of entitlements.updated and of every subscription event', async () => {
    const { invalidated, entitlements } = recorder();
    const handle = handleStiggWebhook({ entitlements, secret: SECRET });
    const first = await handle({ headers, body: JSON.stringify(entitlementsUpdated()) });
    expect(first).toEqual({
      status: 200,
      contentType: expect.stringMatching(/^application\/json/),
      body: { received: true, action: 'invalidated', customerId: 'customer-1' },
    });
    for (const [i, type] of ['subscription.created', 'subscription.updated', 'subscription.canceled'].entries()) {
      const result = await handle({ headers, body: subscriptionEvent(type, { customer: { id: `customer-${i + 2}` } }) });
      expect(result.body).toMatchObject({ action: 'invalidated' });
    }
    expect(invalidated).toEqual(['customer-1', 'customer-2', 'customer-3', 'customer-4']);
  });

  it('ignores stale, repeated and out-of-order events per customer; a newer one applies', async () => {
    const { invalidated, entitlements } = recorder();
    const handle = handleStiggWebhook({ entitlements, secret: SECRET });
    await handle({ headers, body: entitlementsUpdated({ entitlementsUpdatedAt: '2026-11-26T12:00:05.000Z', eventId: 'e5' }) });
    const repeated = await handle({
      headers,
      body: entitlementsUpdated({ entitlementsUpdatedAt: '2026-11-26T12:00:05.000Z', eventId: 'e5' }),
    });
    const older = await handle({
      headers,
      body: entitlementsUpdated({ entitlementsUpdatedAt: '2026-11-26T12:00:04.000Z', eventId: 'e4' }),
    });
    const olderSubscription = await handle({
      headers,
      body: subscriptionEvent('subscription.updated', { timestamp: '2026-11-26T11:59:00.000Z' }),
    });
    expect([repeated, older, olderSubscription].map((r) => [r.status, r.body['action']])).toEqual([
      [200, 'ignored'],
      [200, 'ignored'],
      [200, 'ignored'],
    ]);
    // Another customer is not held back by this one's clock.
    await handle({
      headers,
      body: entitlementsUpdated({ customer: { id: 'customer-9' }, entitlementsUpdatedAt: '2026-11-26T10:00:00.000Z' }),
    });
    await handle({ headers, body: entitlementsUpdated({ entitlementsUpdatedAt: '2026-11-26T12:00:06.000Z', eventId: 'e6' }) });
    expect(invalidated).toEqual(['customer-1', 'customer-9', 'customer-1']);
  });

  it('401 without the secret or with another one (compared in constant time); allowUnauthenticated accepts without one and warns once', async () => {
    const { invalidated, entitlements } = recorder();
    const handle = handleStiggWebhook({ entitlements, secret: SECRET });
    for (const secret of [undefined, '', 'whsec-test-0123456788', `${SECRET}x`, SECRET.slice(0, -1)]) {
      const result = await handle({
        headers: secret === undefined ? {} : { 'stigg-webhooks-secret': secret },
        body: entitlementsUpdated(),
      });
      expect(result.status).toBe(401);
      expect(result.contentType).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(result.body)).not.toContain(SECRET);
    }
    expect(invalidated).toEqual([]);
    expect(secretMatches(SECRET, SECRET)).toBe(true);
    expect(secretMatches('é', 'é')).toBe(true);
    expect(secretMatches(undefined, '')).toBe(false);
    const warnings: string[] = [];
    const open = handleStiggWebhook({
      entitlements,
      allowUnauthenticated: true,
      logger: { warn: (_m, message) => warnings.push(message), error: () => {} },
    });
    await open({ headers: {}, body: entitlementsUpdated() });
    await open({ headers: {}, body: entitlementsUpdated({ eventId: 'other', entitlementsUpdatedAt: '2026-11-26T13:00:00.000Z' }) });
    expect(invalidated).toEqual(['customer-1', 'customer-1']);
    expect(warnings).toEqual([expect.stringMatching(/allowUnauthenticated is set, so any caller can invalidate/)]);
  });

  it('400 for malformed bodies; 200 (ignored) for types it does not handle', async () => {
    const { invalidated, entitlements } = recorder();
    const handle = handleStiggWebhook({ entitlements, secret: SECRET });
    const malformed: unknown[] = [
      '{not json',
      '[]',
      42,
      null,
      {},
      { ...entitlementsUpdated(), type: 7 },
      { ...entitlementsUpdated(), customer: undefined },
      { ...entitlementsUpdated(), customer: { id: '  ' } },
      { ...entitlementsUpdated(), customer: { id: 'x'.repeat(257) } }, // one past MAX_ID_LENGTH, the gates' own limit
      { ...entitlementsUpdated(), entitlementsUpdatedAt: 'yesterday', timestamp: undefined },
      { ...entitlementsUpdated(), entitlementsUpdatedAt: undefined, timestamp: undefined },
      { ...entitlementsUpdated(), entitlements: 'all' },
      { ...subscriptionEvent('subscription.updated'), subscription: null },
      { ...subscriptionEvent('subscription.created'), timestamp: undefined },
    ];
    for (const body of malformed) {
      const result = await handle({ headers, body });
      expect([JSON.stringify(body)?.slice(0, 40), result.status]).toEqual([JSON.stringify(body)?.slice(0, 40), 400]);
      expect(result.body).toMatchObject({ status: 400, title: 'Malformed webhook' });
    }
    const unknown = await handle({ headers, body: { ...entitlementsUpdated(), type: 'customer.updated' } });
    expect(unknown).toMatchObject({ status: 200, body: { action: 'ignored' } });
    expect(invalidated).toEqual([]);
  });

  it('503 when the invalidation fails, and the retry of the same event applies', async () => {
    const errors: string[] = [];
    let fail = true;
    const invalidated: string[] = [];
    const handle = handleStiggWebhook({
      entitlements: {
        invalidate: async (customerId: string) => {
          if (fail) throw new Error('Redis is not answering');
          invalidated.push(customerId);
        },
      },
      secret: SECRET,
      logger: { warn: () => {}, error: (_m, message) => errors.push(message) },
    });
    expect((await handle({ headers, body: entitlementsUpdated() })).status).toBe(503);
    expect(errors).toHaveLength(1);
    fail = false;
    expect((await handle({ headers, body: entitlementsUpdated() })).body).toMatchObject({ action: 'invalidated' });
    expect(invalidated).toEqual(['customer-1']);
  });

  it('rejects bad options at construction', () => {
    const { entitlements } = recorder();
    expect(() => handleStiggWebhook(undefined as never)).toThrow(TypeError);
    expect(() => handleStiggWebhook({} as never)).toThrow(/entitlements is required/);
    expect(() => handleStiggWebhook({ entitlements, secret: '' })).toThrow(/secret must be a non-empty string/);
    expect(() => handleStiggWebhook({ entitlements, secrets: SECRET } as never)).toThrow(/Did you mean "secret"/);
  });
});

describe('adapters', () => {
  it('Express, with and without express.json() in front', async () => {
    for (const parser of [undefined, express.json()]) {
      const { invalidated, entitlements } = recorder();
      const app = express();
      if (parser !== undefined) app.use(parser);
      app.post('/webhooks/stigg', expressWebhook({ entitlements, secret: SECRET }));
      const ok = await request(app).post('/webhooks/stigg').set(headers).send(JSON.stringify(entitlementsUpdated()));
      expect([ok.status, ok.body]).toEqual([200, { received: true, action: 'invalidated', customerId: 'customer-1' }]);
      const bad = await request(app)
        .post('/webhooks/stigg')
        .set({ ...headers, 'stigg-webhooks-secret': 'nope' })
        .send(JSON.stringify(entitlementsUpdated()));
      expect(bad.status).toBe(401);
      expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(invalidated).toEqual(['customer-1']);
    }
    const app = express();
    app.post('/webhooks/stigg', expressWebhook({ entitlements: recorder().entitlements, secret: SECRET }));
    const huge = await request(app)
      .post('/webhooks/stigg')
      .set(headers)
      .send('x'.repeat(1024 * 1024 + 1));
    expect(huge.status).toBe(413);
    const garbage = await request(app).post('/webhooks/stigg').set(headers).send('{oops');
    expect(garbage.status).toBe(400);
  });

  it('Koa', async () => {
    const { invalidated, entitlements } = recorder();
    const app = new Koa();
    app.use(koaWebhook({ entitlements, secret: SECRET }));
    const server = app.callback();
    const ok = await request(server)
      .post('/')
      .set(headers)
      .send(JSON.stringify(subscriptionEvent('subscription.canceled')));
    expect([ok.status, ok.body]).toEqual([200, { received: true, action: 'invalidated', customerId: 'customer-1' }]);
    const bad = await request(server).post('/').set({ 'content-type': 'application/json' }).send(JSON.stringify(entitlementsUpdated()));
    expect(bad.status).toBe(401);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const malformed = await request(server).post('/').set(headers).send('{"type":');
    expect(malformed.status).toBe(400);
    expect(invalidated).toEqual(['customer-1']);
  });

  it('Fetch API (Hono, Workers): Request in, Response out', async () => {
    const { invalidated, entitlements } = recorder();
    const handle = stiggFetchWebhook({ entitlements, secret: SECRET });
    const response = await handle(
      new Request('http://localhost/webhooks/stigg', {
        method: 'POST',
        headers: { 'Stigg-Webhooks-Secret': SECRET },
        body: JSON.stringify(entitlementsUpdated()),
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, action: 'invalidated', customerId: 'customer-1' });
    const denied = await handle(new Request('http://localhost/webhooks/stigg', { method: 'POST', body: '{}' }));
    expect(denied.status).toBe(401);
    expect(invalidated).toEqual(['customer-1']);
  });

  it('Fastify: a plugin with a scope of its own, answering POST on its prefix', async () => {
    const { invalidated, entitlements } = recorder();
    const app = Fastify();
    await app.register(fastifyWebhook({ entitlements, secret: SECRET }), { prefix: '/webhooks/stigg' });
    app.post('/json', async (req) => req.body); // the app's own parsers still work outside the webhook's scope
    await app.ready();
    const ok = await request(app.server).post('/webhooks/stigg').set(headers).send(JSON.stringify(entitlementsUpdated()));
    expect([ok.status, ok.body]).toEqual([200, { received: true, action: 'invalidated', customerId: 'customer-1' }]);
    const bad = await request(app.server)
      .post('/webhooks/stigg')
      .set({ ...headers, 'stigg-webhooks-secret': 'nope' })
      .send('{}');
    expect([bad.status, bad.headers['content-type']]).toEqual([401, expect.stringMatching(/application\/problem\+json/)]);
    const huge = await request(app.server)
      .post('/webhooks/stigg')
      .set(headers)
      .send('x'.repeat(1024 * 1024 + 1));
    expect(huge.status).toBe(413);
    const malformed = await request(app.server).post('/webhooks/stigg').set(headers).send('{"type":');
    expect(malformed.status).toBe(400);
    expect((await request(app.server).post('/json').send({ a: 1 })).body).toEqual({ a: 1 });
    expect(invalidated).toEqual(['customer-1']);
    await app.close();
  });

  it('Hono: a handler, Request in, Response out', async () => {
    const { invalidated, entitlements } = recorder();
    const app = new Hono();
    app.post('/webhooks/stigg', honoWebhook({ entitlements, secret: SECRET }));
    const ok = await app.request('/webhooks/stigg', { method: 'POST', headers, body: JSON.stringify(entitlementsUpdated()) });
    expect([ok.status, await ok.json()]).toEqual([200, { received: true, action: 'invalidated', customerId: 'customer-1' }]);
    const bad = await app.request('/webhooks/stigg', { method: 'POST', body: JSON.stringify(entitlementsUpdated()) });
    expect([bad.status, bad.headers.get('content-type')]).toEqual([401, expect.stringMatching(/application\/problem\+json/)]);
    const huge = await app.request('/webhooks/stigg', { method: 'POST', headers, body: 'x'.repeat(1024 * 1024 + 1) });
    expect(huge.status).toBe(413);
    expect(invalidated).toEqual(['customer-1']);
  });
});
