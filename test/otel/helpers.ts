import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

/** The OTel SDK with its in-memory exporters: spans as they end, metrics on collect(). */
export interface Telemetry {
  spans: InMemorySpanExporter;
  tracerProvider: TracerProvider;
  meterProvider: MeterProvider;
  /** The spans ended so far, once their exports settled. */
  finished(): Promise<ReadableSpan[]>;
  /** Every metric as of now (cumulative), by name. */
  collect(): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function telemetry(): Telemetry {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when collect() flushes: the interval (an hour) never fires in a test.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    spans,
    tracerProvider,
    meterProvider,
    async finished() {
      await tracerProvider.forceFlush();
      return spans.getFinishedSpans();
    },
    async collect() {
      exporter.reset();
      await meterProvider.forceFlush();
      const found = new Map<string, MetricData>();
      for (const resource of exporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) found.set(metric.descriptor.name, metric);
      }
      return found;
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** The value of a gauge or a sum, summed over the data points whose attributes include `where`. */
export function valueOf(metrics: Map<string, MetricData>, name: string, where: Record<string, unknown> = {}): number | undefined {
  const metric = metrics.get(name);
  if (metric === undefined) return undefined;
  let total: number | undefined;
  for (const point of metric.dataPoints) {
    if (!Object.entries(where).every(([key, value]) => point.attributes[key] === value)) continue;
    if (typeof point.value !== 'number') continue;
    total = (total ?? 0) + point.value;
  }
  return total;
}
