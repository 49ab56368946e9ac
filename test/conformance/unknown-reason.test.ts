import express from 'express';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { startEmulator, type Emulator } from '../../src/emulator';
import { requireFeature, stigg } from '../../src/middleware/express';

/**
 * Stigg keeps adding accessDeniedReason values (its newer API answers EntitlementNotFound). The emulator
 * answers one this version does not know, and the middleware passes it through: 403, the reason verbatim.
 */
describe('an accessDeniedReason newer than this version, end to end (emulator → client → core → Express)', () => {
  let emulator: Emulator;
  let entitlements: Entitlements;
  const warnings: unknown[][] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ accessDeniedReason: 'EntitlementNotFound' });
    emulator.state.provisionCustomer({ customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } });
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (...a: unknown[]) => warnings.push(a),
      error: () => undefined,
    };
    entitlements = createEntitlements({
      client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }),
      logger,
    });
  });
  afterAll(async () => {
    await entitlements.close();
    await emulator.stop();
  });

  it('answers 403 with the reason verbatim and a title, and grants what is granted', async () => {
    const app = express();
    app.use(stigg({ entitlements, customer: () => 'c' }));
    app.get('/analytics', requireFeature('feature-04-analytics'), (_req, res) => res.json({ ok: true }));
    app.get('/templates', requireFeature('feature-01-templates'), (_req, res) => res.json({ ok: true }));

    const denied = await request(app).get('/analytics');
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({
      accessDeniedReason: 'EntitlementNotFound',
      title: expect.any(String),
      status: 403,
    });
    expect(Object.values(denied.body as Record<string, unknown>)).not.toContain(undefined);
    expect((await request(app).get('/templates')).status).toBe(200);
  });
});
