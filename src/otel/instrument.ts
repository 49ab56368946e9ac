import {
  context,
  metrics,
  SpanKind,
  trace,
  type BatchObservableCallback,
  type Meter,
  type MeterProvider,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { Decision, Entitlements, EntitlementsEvents, PendingUsage, UpstreamCall } from '../core';
import { isPlainObject } from '../util/plain-object';
import { rejectUnknownOptions } from '../util/unknown-options';
import { ATTR, EVENT_NAME, eventAttributes } from './attributes';
import { DecisionTally } from './tally';

export interface InstrumentOptions {
  /** Where spans go; default the global one (`trace.setGlobalTracerProvider`, or what the OTel SDK registered). */
  tracerProvider?: TracerProvider;
  /** Where metrics go; default the global one. */
  meterProvider?: MeterProvider;
  /**
   * A decision made while no span is active: 'span' (default) records a short span named
   * `feature_flag.evaluation` holding the event; 'none' records no event for it (metrics still count it).
   */
  withoutActiveSpan?: 'span' | 'none';
  /** Put the customer id on span events as `feature_flag.context.id` (default false). Never on metrics. */
  customerOnSpans?: boolean;
}

const KNOWN = ['tracerProvider', 'meterProvider', 'withoutActiveSpan', 'customerOnSpans'];
const SCOPE = 'stigg-gate';
/** Seconds: from a cached read on loopback to a slow call that times out. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

type Listeners = { [E in keyof EntitlementsEvents]?: (...args: EntitlementsEvents[E]) => void };

function parse(
  options: InstrumentOptions | undefined,
): Required<Pick<InstrumentOptions, 'withoutActiveSpan' | 'customerOnSpans'>> & InstrumentOptions {
  if (options === undefined) return { withoutActiveSpan: 'span', customerOnSpans: false };
  if (!isPlainObject(options))
    throw new TypeError(
      'instrument(entitlements, options?) takes { tracerProvider?, meterProvider?, withoutActiveSpan?, customerOnSpans? }.',
    );
  rejectUnknownOptions(options, KNOWN, 'instrument()');
  const { withoutActiveSpan = 'span', customerOnSpans = false } = options;
  if (withoutActiveSpan !== 'span' && withoutActiveSpan !== 'none') {
    throw new TypeError(
      `instrument(): ${JSON.stringify(withoutActiveSpan)} is not a valid withoutActiveSpan. Please choose 'span' (default) or 'none'.`,
    );
  }
  if (typeof customerOnSpans !== 'boolean') throw new TypeError('instrument(): customerOnSpans must be true or false.');
  for (const name of ['tracerProvider', 'meterProvider'] as const) {
    const provider: unknown = options[name];
    const method = name === 'tracerProvider' ? 'getTracer' : 'getMeter';
    if (
      provider !== undefined &&
      (typeof provider !== 'object' || provider === null || typeof (provider as Record<string, unknown>)[method] !== 'function')
    ) {
      throw new TypeError(
        `instrument(): ${name} must be an OpenTelemetry ${name === 'tracerProvider' ? 'TracerProvider' : 'MeterProvider'} (it has ${method}()).`,
      );
    }
  }
  return { ...options, withoutActiveSpan, customerOnSpans };
}

/** DELTA units of `reports` per feature (SET reports are absolute values, not units used: not counted). */
function unitsByFeature(reports: readonly PendingUsage[]): Map<string, number> {
  const units = new Map<string, number>();
  for (const report of reports) {
    if (report.updateBehavior === 'SET') continue;
    units.set(report.featureId, (units.get(report.featureId) ?? 0) + report.value);
  }
  return units;
}

/**
 * Reports `entitlements` to OpenTelemetry: per decision a `feature_flag.evaluation` event on the
 * active span (or a short span of its own, see withoutActiveSpan), and the pipeline's metrics.
 * Returns the disposer: it removes every listener and callback this call added.
 */
export function instrument(entitlements: Entitlements, options?: InstrumentOptions): () => void {
  if (
    typeof entitlements !== 'object' ||
    entitlements === null ||
    typeof entitlements.on !== 'function' ||
    typeof entitlements.health !== 'function'
  ) {
    throw new TypeError('instrument() takes the entitlements createEntitlements() returned, then { tracerProvider?, meterProvider?, … }.');
  }
  const config = parse(options);
  const tracer: Tracer = (config.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter: Meter = (config.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);

  const decisions = meter.createObservableCounter('stigg_gate.decisions', {
    description: 'Decisions check() and acquire() returned',
    unit: '{decision}',
  });
  const hits = meter.createObservableCounter('stigg_gate.cache.hits', {
    description: 'Decisions answered from the cache',
    unit: '{lookup}',
  });
  const misses = meter.createObservableCounter('stigg_gate.cache.misses', {
    description: 'Decisions that had to read Stigg',
    unit: '{lookup}',
  });
  const latency = meter.createHistogram('stigg_gate.upstream.duration', {
    description: 'Duration of calls to Stigg',
    unit: 's',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
  });
  const errors = meter.createCounter('stigg_gate.upstream.errors', {
    description: 'Calls to Stigg that failed, by category',
    unit: '{call}',
  });
  const delivered = meter.createCounter('stigg_gate.usage.delivered', { description: 'Usage units Stigg acknowledged', unit: '{unit}' });
  const dropped = meter.createCounter('stigg_gate.usage.dropped', { description: 'Usage units given up for good', unit: '{unit}' });
  const undelivered = meter.createCounter('stigg_gate.usage.undelivered', {
    description: "Usage units close() handed to the app ('usage:undelivered')",
    unit: '{unit}',
  });
  const breaker = meter.createObservableGauge('stigg_gate.breaker.state', {
    description: "The circuit breaker's state toward Stigg: 0 closed, 1 half-open, 2 open",
  });
  const depth = meter.createObservableGauge('stigg_gate.outbox.depth', {
    description: 'Usage reports Stigg has not taken yet',
    unit: '{report}',
  });
  const age = meter.createObservableGauge('stigg_gate.outbox.oldest_age', {
    description: 'Age of the oldest usage report not yet taken',
    unit: 's',
  });
  const reachable = meter.createObservableGauge('stigg_gate.store.reachable', { description: 'The store answers: 1, or 0' });

  const count = (counter: typeof delivered) => (reports: readonly PendingUsage[]) => {
    for (const [featureId, units] of unitsByFeature(reports)) counter.add(units, { [ATTR.key]: featureId });
  };
  const tally = new DecisionTally();
  const cache = { hits: 0, misses: 0 };
  const listeners: Listeners = {
    decision: (decision: Decision) => {
      tally.add(decision);
      const active = trace.getSpan(context.active());
      if (active !== undefined) {
        active.addEvent(EVENT_NAME, eventAttributes(decision, config.customerOnSpans));
        return;
      }
      if (config.withoutActiveSpan === 'none') return;
      const span = tracer.startSpan(EVENT_NAME, { kind: SpanKind.INTERNAL });
      span.addEvent(EVENT_NAME, eventAttributes(decision, config.customerOnSpans));
      span.end();
    },
    'cache:hit': () => (cache.hits += 1),
    'cache:miss': () => (cache.misses += 1),
    'upstream:call': (call: UpstreamCall) => {
      latency.record(call.durationMs / 1000, { [ATTR.operation]: call.operation, [ATTR.outcome]: call.outcome });
      if (call.outcome !== 'ok') errors.add(1, { [ATTR.operation]: call.operation, [ATTR.errorType]: call.outcome });
    },
    'usage:flushed': count(delivered),
    'usage:dropped': (report: PendingUsage) => count(dropped)([report]),
    'usage:undelivered': count(undelivered),
  };
  const observe: BatchObservableCallback = (result) => {
    const health = entitlements.health();
    result.observe(breaker, BREAKER_VALUE[health.breaker]);
    result.observe(depth, health.outbox.depth);
    result.observe(age, (health.outbox.oldestAgeMs ?? 0) / 1000);
    result.observe(reachable, health.store.reachable ? 1 : 0);
    tally.observe(result, decisions);
    if (cache.hits > 0) result.observe(hits, cache.hits);
    if (cache.misses > 0) result.observe(misses, cache.misses);
  };
  const observables = [breaker, depth, age, reachable, decisions, hits, misses];

  const on = entitlements.on.bind(entitlements) as (event: string, listener: unknown) => void;
  const off = entitlements.off.bind(entitlements) as (event: string, listener: unknown) => void;
  for (const [event, listener] of Object.entries(listeners)) on(event, listener);
  meter.addBatchObservableCallback(observe, observables);
  let disposed = false;
  return () => {
    if (disposed) return;
    disposed = true;
    for (const [event, listener] of Object.entries(listeners)) off(event, listener);
    meter.removeBatchObservableCallback(observe, observables);
  };
}
