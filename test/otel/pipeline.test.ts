import { EntitlementUnavailableError } from '../../src/core/errors';
import type { Entitlements, PendingUsage } from '../../src/core/types';
import { instrument } from '../../src/otel';
import { customer, startRig, TEMPLATES } from '../core/helpers';
import { telemetry, valueOf, type Telemetry } from './helpers';
import { forSuite } from '../support/suite';

// The pipeline's metrics with the SDK's in-memory metric exporter: a 60 s outage on the injected
// clock (the breaker gauge opens, the outbox's oldest-age gauge rises, both recover), latency and
// errors per call, cache hits and misses, and usage units delivered, dropped and undelivered.
const CAMPAIGNS = 'feature-02-campaigns';
let otel: Telemetry;
let clock = 0;
const quiet = { warn: () => undefined, error: () => undefined };

const rig = forSuite(() => startRig([customer('ten', 'plan-revvenu-growth')], {}, { maxRetries: 0, timeoutMs: 5_000 }));
beforeEach(() => {
  otel = telemetry();
  clock = Date.parse('2026-12-07T12:00:00.000Z');
});
afterEach(async () => {
  rig.emulator.setFaults({ failureRate: 0 });
  await otel.shutdown();
});

/** Delivery only on flush() (the interval never fires); the clock moves by hand. */
function engine(): Entitlements {
  const entitlements = rig.make({
    now: () => clock,
    circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 120_000 },
    usage: { flushIntervalMs: 3_600_000 },
    logger: quiet,
  });
  instrument(entitlements, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
  return entitlements;
}

async function unavailable(entitlements: Entitlements, customerId: string): Promise<void> {
  await expect(Promise.resolve().then(() => entitlements.check({ customerId, featureId: TEMPLATES }))).rejects.toBeInstanceOf(
    EntitlementUnavailableError,
  );
}

async function gauges(): Promise<[number | undefined, number | undefined, number | undefined]> {
  const metrics = await otel.collect();
  return [
    valueOf(metrics, 'stigg_gate.breaker.state'),
    valueOf(metrics, 'stigg_gate.outbox.depth'),
    valueOf(metrics, 'stigg_gate.outbox.oldest_age'),
  ];
}

test('a 60 s outage: breaker 2 (open) and the oldest report aging with the clock, then 0 and an empty outbox after recovery', async () => {
  const entitlements = engine();
  await entitlements.check({ customerId: 'ten', featureId: TEMPLATES });
  expect(await gauges()).toEqual([0, 0, 0]);

  rig.emulator.setFaults({ failureRate: 1 });
  await entitlements.report({ customerId: 'ten', featureId: CAMPAIGNS, value: 5 });
  await unavailable(entitlements, 'nobody-1');
  await unavailable(entitlements, 'nobody-2');
  expect(await gauges()).toEqual([2, 1, 0]);
  clock += 1_000;
  expect(await gauges()).toEqual([2, 1, 1]);
  clock += 59_000;
  expect(await gauges()).toEqual([2, 1, 60]);

  rig.emulator.setFaults({ failureRate: 0 });
  clock += 120_000;
  expect((await gauges())[0]).toBe(1); // half-open: the next call is the trial
  await entitlements.check({ customerId: 'nobody-3', featureId: TEMPLATES });
  await entitlements.flush();
  expect(await gauges()).toEqual([0, 0, 0]);

  const metrics = await otel.collect();
  expect(valueOf(metrics, 'stigg_gate.usage.delivered', { 'feature_flag.key': CAMPAIGNS })).toBe(5);
  expect(
    valueOf(metrics, 'stigg_gate.upstream.errors', { 'stigg_gate.operation': 'getEntitlementsState', 'error.type': 'transient' }),
  ).toBe(2);
  expect(valueOf(metrics, 'stigg_gate.store.reachable')).toBe(1);
  const latency = metrics.get('stigg_gate.upstream.duration');
  const counts = (latency?.dataPoints ?? []).map((point) => [
    point.attributes['stigg_gate.operation'],
    point.attributes['stigg_gate.outcome'],
    (point.value as { count: number }).count,
  ]);
  expect(counts).toEqual(
    expect.arrayContaining([
      ['getEntitlementsState', 'ok', 2],
      ['getEntitlementsState', 'transient', 2],
      ['reportUsageBulk', 'ok', 1],
    ]),
  );
  expect(latency?.descriptor.unit).toBe('s');
  // The first read missed, nothing was cached for 'nobody-*': misses only, no hit.
  expect([valueOf(metrics, 'stigg_gate.cache.misses'), valueOf(metrics, 'stigg_gate.cache.hits')]).toEqual([4, undefined]);
});

test('cache hits, and units dropped and undelivered, by feature', async () => {
  const entitlements = engine();
  await entitlements.check({ customerId: 'ten', featureId: TEMPLATES });
  await entitlements.check({ customerId: 'ten', featureId: TEMPLATES });
  // Stigg takes the good report and refuses the one for a customer it does not know: that one is dropped.
  await entitlements.report({ customerId: 'ten', featureId: CAMPAIGNS, value: 2 });
  await entitlements.report({ customerId: 'ghost', featureId: CAMPAIGNS, value: 7 });
  const dropped: PendingUsage[] = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  await entitlements.flush();
  expect(dropped.map((report) => report.value)).toEqual([7]);
  // Stigg down at close(): what is left is handed to the app.
  rig.emulator.setFaults({ failureRate: 1 });
  await entitlements.report({ customerId: 'ten', featureId: CAMPAIGNS, value: 3 });
  entitlements.on('usage:undelivered', () => undefined);
  await entitlements.close({ timeoutMs: 300 });
  const metrics = await otel.collect();
  expect(valueOf(metrics, 'stigg_gate.cache.hits')).toBe(1);
  expect(valueOf(metrics, 'stigg_gate.usage.delivered', { 'feature_flag.key': CAMPAIGNS })).toBe(2);
  expect(valueOf(metrics, 'stigg_gate.usage.dropped', { 'feature_flag.key': CAMPAIGNS })).toBe(7);
  expect(valueOf(metrics, 'stigg_gate.usage.undelivered', { 'feature_flag.key': CAMPAIGNS })).toBe(3);
});
