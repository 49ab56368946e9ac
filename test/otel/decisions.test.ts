import { context, trace } from '@opentelemetry/api';
import { StackContextManager } from '@opentelemetry/sdk-trace';
import express from 'express';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Decision, Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { entitlementErrorHandler, requireFeature, stigg } from '../../src/middleware/express';
import { instrument } from '../../src/otel';
import { telemetry, valueOf, type Telemetry } from './helpers';
import { forSuite, onFirstUse } from '../support/suite';

// stigg-gate/otel against the OTel SDK's in-memory exporters: one feature_flag.evaluation event per
// decision (on the active span, else on a short span of its own), and the decisions counter.
const TEMPLATES = 'feature-01-templates';
const ANALYTICS = 'feature-04-analytics';
let otel: Telemetry;
const cleanups: Array<() => unknown> = [];

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
beforeEach(() => {
  otel = telemetry();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await otel.shutdown();
});

function engine(): { entitlements: Entitlements; decisions: Decision[] } {
  const entitlements = createEntitlements({ client, failMode: 'open', logger: { warn: () => undefined, error: () => undefined } });
  const decisions: Decision[] = [];
  entitlements.on('decision', (decision) => decisions.push(decision));
  cleanups.push(() => entitlements.close());
  return { entitlements, decisions };
}

function app(entitlements: Entitlements): express.Express {
  const served = express();
  served.use(stigg({ entitlements, customer: (req) => req.get('x-customer') }));
  served.post('/templates', requireFeature(TEMPLATES, 1), (_req, res) => void res.json({ ok: true }));
  served.get('/analytics', requireFeature(ANALYTICS), (_req, res) => void res.json({ ok: true }));
  served.get('/unknown', requireFeature('feature-99-missing'), (_req, res) => void res.json({ ok: true }));
  served.use(entitlementErrorHandler());
  return served;
}

test('through Express and the emulator: exactly one event per decision, with the documented attributes', async () => {
  const { entitlements, decisions } = engine();
  const dispose = instrument(entitlements, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
  cleanups.push(dispose);
  const served = app(entitlements);
  const cases: Array<[string, string, string | undefined, number]> = [
    ['post', '/templates', 'cust-basic', 200],
    ['post', '/templates', 'cust-basic', 200],
    ['post', '/templates', 'cust-basic', 200],
    ['post', '/templates', 'cust-basic', 402],
    ['get', '/analytics', 'cust-basic', 402],
    ['get', '/analytics', 'cust-none', 402],
    ['get', '/unknown', 'cust-growth', 403],
    ['get', '/analytics', undefined, 401],
  ];
  for (const [method, path, customerId, status] of cases) {
    const sent = method === 'post' ? request(served).post(path) : request(served).get(path);
    const response = customerId === undefined ? await sent : await sent.set('x-customer', customerId);
    expect([path, customerId, response.status]).toEqual([path, customerId, status]);
  }
  // No customer, no decision (401 before any check): seven decisions, seven spans, one event each.
  const spans = await otel.finished();
  expect(decisions).toHaveLength(7);
  expect(spans).toHaveLength(decisions.length);
  expect(spans.map((span) => [span.name, span.events.length])).toEqual(decisions.map(() => ['feature_flag.evaluation', 1]));
  const events = spans.map((span) => span.events[0]?.attributes ?? {});
  const pick = (attributes: Record<string, unknown>) => [
    attributes['feature_flag.key'],
    attributes['feature_flag.result.variant'],
    attributes['feature_flag.result.reason'],
    attributes['stigg_gate.access_denied_reason'],
    attributes['stigg_gate.usage_limit'],
    attributes['stigg_gate.remaining'],
  ];
  expect(events.map(pick)).toEqual([
    [TEMPLATES, 'granted', 'targeting_match', undefined, 3, 2],
    [TEMPLATES, 'granted', 'cached', undefined, 3, 1],
    [TEMPLATES, 'granted', 'cached', undefined, 3, 0],
    [TEMPLATES, 'denied', 'cached', 'RequestedUsageExceedingLimit', 3, 0],
    [ANALYTICS, 'denied', 'targeting_match', 'NoFeatureEntitlementInSubscription', undefined, undefined],
    [ANALYTICS, 'denied', 'targeting_match', 'NoActiveSubscription', undefined, undefined],
    ['feature-99-missing', 'denied', 'targeting_match', 'FeatureNotFound', undefined, 0],
  ]);
  // Every attribute of an event says what its decision said.
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
  expect(events[1]).toMatchObject({ 'stigg_gate.source': 'cache', 'stigg_gate.requested_usage': 1 });
  // No customer id anywhere by default.
  expect(JSON.stringify(spans.map((span) => [span.attributes, span.events]))).not.toMatch(/cust-/);

  const metrics = await otel.collect();
  expect(valueOf(metrics, 'stigg_gate.decisions')).toBe(7);
  expect(valueOf(metrics, 'stigg_gate.decisions', { 'feature_flag.result.variant': 'denied' })).toBe(4);
  expect(valueOf(metrics, 'stigg_gate.decisions', { 'stigg_gate.source': 'cache', 'feature_flag.key': TEMPLATES })).toBe(3);
  expect(valueOf(metrics, 'stigg_gate.decisions', { 'stigg_gate.access_denied_reason': 'RequestedUsageExceedingLimit' })).toBe(1);
  expect(JSON.stringify([...metrics.values()].map((metric) => metric.dataPoints.map((point) => point.attributes)))).not.toMatch(/cust-/);
});

test('with a span active, the event goes on it (no span of its own); customerOnSpans adds the customer there only', async () => {
  const manager = new StackContextManager().enable();
  context.setGlobalContextManager(manager);
  cleanups.push(() => context.disable());
  const { entitlements, decisions } = engine();
  cleanups.push(
    instrument(entitlements, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider, customerOnSpans: true }),
  );
  await entitlements.check({ customerId: 'cust-growth', featureId: TEMPLATES }); // fills the cache: its own span
  const parent = otel.tracerProvider.getTracer('test').startSpan('request');
  // A cached check answers synchronously, inside the parent's context.
  await context.with(trace.setSpan(context.active(), parent), () =>
    entitlements.check({ customerId: 'cust-growth', featureId: TEMPLATES }),
  );
  parent.end();
  const spans = await otel.finished();
  expect(decisions).toHaveLength(2);
  expect(spans.map((span) => span.name)).toEqual(['feature_flag.evaluation', 'request']);
  expect(spans[1]?.events.map((event) => [event.name, event.attributes?.['feature_flag.context.id']])).toEqual([
    ['feature_flag.evaluation', 'cust-growth'],
  ]);
  const metrics = await otel.collect();
  expect(JSON.stringify(metrics.get('stigg_gate.decisions')?.dataPoints.map((point) => point.attributes))).not.toMatch(/cust-/);
});

test("withoutActiveSpan 'none': no span without a parent, still counted", async () => {
  const { entitlements } = engine();
  cleanups.push(
    instrument(entitlements, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider, withoutActiveSpan: 'none' }),
  );
  await entitlements.check({ customerId: 'cust-growth', featureId: TEMPLATES });
  expect(await otel.finished()).toHaveLength(0);
  expect(valueOf(await otel.collect(), 'stigg_gate.decisions')).toBe(1);
});

test('the disposer removes the listeners: no span for later decisions, and disposing twice is harmless', async () => {
  const { entitlements } = engine();
  const dispose = instrument(entitlements, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
  await entitlements.check({ customerId: 'cust-growth', featureId: TEMPLATES });
  expect(await otel.finished()).toHaveLength(1);
  dispose();
  dispose();
  await entitlements.check({ customerId: 'cust-growth', featureId: TEMPLATES });
  expect(await otel.finished()).toHaveLength(1);
});

test('bad options throw at once with the fix', () => {
  const { entitlements } = engine();
  expect(() => instrument(entitlements, { tracerProvidr: otel.tracerProvider } as never)).toThrow(/Did you mean "tracerProvider"/);
  expect(() => instrument(entitlements, { withoutActiveSpan: 'never' } as never)).toThrow(/'span' \(default\) or 'none'/);
  expect(() => instrument(entitlements, { meterProvider: {} } as never)).toThrow(/MeterProvider/);
  expect(() => instrument({} as never)).toThrow(/createEntitlements\(\)/);
});
