import type http from 'node:http';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Decision } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { instrument } from '../../src/otel';
import { CUSTOMER_HEADER, adapters, close, type Adapter, type RouteSpec } from '../middleware/harness';
import { telemetry, valueOf, type Telemetry } from './helpers';
import { forSuite, onFirstUse } from '../support/suite';

// Issue 27: every decision of the shared HTTP cases yields exactly one feature_flag.evaluation
// event, with the documented attributes, on every adapter of the harness (Express 4/5, Koa 2/3,
// Fastify 4/5, Hono on Node), not only on the Express app of decisions.test.ts. Nest has its own.

const TEMPLATES = 'feature-01-templates';
const CAMPAIGNS = 'feature-02-campaigns';
const ANALYTICS = 'feature-04-analytics';

const emulator = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: [
        { id: 'cust-basic', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
        { id: 'cust-growth', subscriptions: [{ planId: 'plan-revvenu-growth' }] },
        { id: 'cust-none' },
      ],
    },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }));

const routes: RouteSpec[] = [
  { method: 'post', path: '/templates', gates: [{ featureId: TEMPLATES, usage: 1 }] },
  { method: 'post', path: '/campaigns', gates: [{ featureId: CAMPAIGNS, usage: (v: { body?: { count?: number } }) => v.body?.count }] },
  { method: 'get', path: '/analytics', gates: [{ featureId: ANALYTICS }] },
  { method: 'get', path: '/unknown', gates: [{ featureId: 'feature-99-missing' }] },
];

/** method, path, customer, body, status: 8 decisions (the 401 and the 400 make none). */
const cases: Array<[string, string, string | undefined, unknown, number]> = [
  ['post', '/templates', 'cust-basic', undefined, 200],
  ['post', '/templates', 'cust-basic', undefined, 200],
  ['post', '/templates', 'cust-basic', undefined, 200],
  ['post', '/templates', 'cust-basic', undefined, 402],
  ['post', '/campaigns', 'cust-basic', { count: 3 }, 200],
  ['post', '/campaigns', 'cust-basic', { count: 2 }, 402],
  ['post', '/campaigns', 'cust-basic', { count: -1 }, 400],
  ['get', '/analytics', 'cust-basic', undefined, 402],
  ['get', '/analytics', 'cust-growth', undefined, 200],
  ['get', '/unknown', 'cust-none', undefined, 403],
  ['get', '/analytics', undefined, undefined, 401],
];

describe.each(adapters.map((adapter) => [adapter.name, adapter] as const))('%s', (_name, adapter: Adapter) => {
  let otel: Telemetry;
  let server: http.Server | undefined;
  beforeEach(() => {
    emulator.reset();
    otel = telemetry();
  });
  afterEach(async () => {
    if (server?.listening) await close(server);
    await otel.shutdown();
  });

  test('one evaluation event per decision, whose attributes say what the decision said', async () => {
    const entitlements = createEntitlements({ client });
    const decisions: Decision[] = [];
    entitlements.on('decision', (decision) => decisions.push(decision));
    const dispose = instrument(entitlements, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    try {
      server = adapter.build({ entitlements, routes }).server;
      for (const [method, path, customerId, body, status] of cases) {
        let sent = method === 'post' ? request(server).post(path) : request(server).get(path);
        if (customerId !== undefined) sent = sent.set(CUSTOMER_HEADER, customerId);
        const response = body === undefined ? await sent : await sent.send(body as object);
        expect([method, path, customerId, response.status]).toEqual([method, path, customerId, status]);
      }
      const spans = await otel.finished();
      expect(decisions).toHaveLength(9);
      expect(spans.map((span) => [span.name, span.events.length])).toEqual(decisions.map(() => ['feature_flag.evaluation', 1]));
      const events = spans.map((span) => span.events[0]?.attributes ?? {});
      decisions.forEach((decision, at) => {
        const expected: Record<string, unknown> = {
          'feature_flag.key': decision.featureId,
          'feature_flag.result.variant': decision.granted ? 'granted' : 'denied',
          'feature_flag.result.reason': decision.source === 'cache' ? 'cached' : 'targeting_match',
          'stigg_gate.source': decision.source,
          'stigg_gate.requested_usage': decision.requestedUsage,
        };
        if (decision.accessDeniedReason !== null) expected['stigg_gate.access_denied_reason'] = decision.accessDeniedReason;
        if (decision.usageLimit !== null) expected['stigg_gate.usage_limit'] = decision.usageLimit;
        if (decision.remaining !== null) expected['stigg_gate.remaining'] = decision.remaining;
        expect(events[at]).toEqual(expected);
      });
      expect(decisions.map((decision) => [decision.featureId, decision.granted])).toEqual([
        [TEMPLATES, true],
        [TEMPLATES, true],
        [TEMPLATES, true],
        [TEMPLATES, false],
        [CAMPAIGNS, true],
        [CAMPAIGNS, false],
        [ANALYTICS, false],
        [ANALYTICS, true],
        ['feature-99-missing', false],
      ]);
      const metrics = await otel.collect();
      expect(valueOf(metrics, 'stigg_gate.decisions')).toBe(9);
      expect(valueOf(metrics, 'stigg_gate.decisions', { 'feature_flag.result.variant': 'denied' })).toBe(4);
      expect(JSON.stringify(spans.map((span) => [span.attributes, span.events]))).not.toMatch(/cust-/);
    } finally {
      dispose();
      await entitlements.close();
    }
  });
});
