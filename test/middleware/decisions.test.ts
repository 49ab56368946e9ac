import http from 'node:http';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import { PROBLEM_TYPE_PREFIX } from '../../src/middleware/problem';
import { CUSTOMER_HEADER, adapters, close } from './harness';
import { forSuite, onFirstUse } from '../support/suite';

// Stigg's decision rules through every adapter: ENUM values asked per route (a list, or a function of
// the request), and a soft limit granted past its limit and still reported.

const MODEL = 'feature-09-model';
const SEATS = 'feature-07-seats';

const catalog: Catalog = {
  ...defaultCatalog,
  features: [
    ...defaultCatalog.features,
    { id: MODEL, featureType: 'ENUM', enumValues: ['small', 'large', 'gpt-4o'] },
    { id: SEATS, featureType: 'NUMBER', meterType: 'Incremental' },
  ],
  plans: [
    ...defaultCatalog.plans,
    {
      id: 'plan-ai',
      productId: 'product-revvenu',
      pricingType: 'FREE',
      entitlements: [
        { featureId: MODEL, enumValues: ['small', 'large'] },
        { featureId: SEATS, usageLimit: 2, hasSoftLimit: true },
      ],
    },
  ],
  customers: [{ id: 'cust-ai', subscriptions: [{ planId: 'plan-ai' }] }],
};

const emu = forSuite(() => startEmulator({ port: 0, catalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));

describe.each(adapters)('$name: Stigg decision rules through requireFeature', (adapter) => {
  let entitlements: Entitlements;
  let server: http.Server;
  beforeEach(() => {
    emu.reset();
    entitlements = createEntitlements({ client });
    server = adapter.build({
      entitlements,
      routes: [
        { method: 'post', path: '/small', gates: [{ featureId: MODEL, options: { requestedValues: ['small'] } }] },
        { method: 'post', path: '/chat', gates: [{ featureId: MODEL, options: { requestedValues: (v) => v.body.models } }] },
        { method: 'post', path: '/seats', gates: [{ featureId: SEATS, usage: 1 }] },
      ],
    }).server;
  });
  afterEach(async () => {
    await entitlements.close();
    await close(server);
  });

  test('values the plan includes pass; others answer 403 naming the values not entitled', async () => {
    await request(server).post('/small').set(CUSTOMER_HEADER, 'cust-ai').expect(200);
    await request(server)
      .post('/chat')
      .set(CUSTOMER_HEADER, 'cust-ai')
      .send({ models: ['small', 'large'] })
      .expect(200);
    const denied = await request(server)
      .post('/chat')
      .set(CUSTOMER_HEADER, 'cust-ai')
      .send({ models: ['small', 'gpt-4o'] })
      .expect(403);
    expect(denied.body).toMatchObject({
      type: `${PROBLEM_TYPE_PREFIX}requested-values-mismatch`,
      accessDeniedReason: 'RequestedValuesMismatch',
      requestedValues: ['small', 'gpt-4o'],
      valuesNotEntitled: ['gpt-4o'],
    });
    expect(denied.body.detail).toContain('"gpt-4o"');
  });

  test('values that are not a short list of ids answer 400 and are not echoed', async () => {
    for (const models of ['small', [''], ['a\u0000b'], Array.from({ length: 101 }, (_, i) => `m${i}`), [42]]) {
      const res = await request(server).post('/chat').set(CUSTOMER_HEADER, 'cust-ai').send({ models }).expect(400);
      expect(res.body).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}invalid-requested-values`, featureId: MODEL });
      expect(JSON.stringify(res.body)).not.toContain('m100');
    }
  });

  test('a soft limit is granted past its limit, and every unit is reported', async () => {
    for (let i = 0; i < 4; i += 1) await request(server).post('/seats').set(CUSTOMER_HEADER, 'cust-ai').expect(200);
    await entitlements.flush();
    expect(emu.stats().usage[`cust-ai||${SEATS}`]).toBe(4);
    const decision = await entitlements.check({ customerId: 'cust-ai', featureId: SEATS, requestedUsage: 1 });
    expect(decision).toMatchObject({ granted: true, hasSoftLimit: true, softLimitExceeded: true, remaining: 0, usageLimit: 2 });
  });
});
