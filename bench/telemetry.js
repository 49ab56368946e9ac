'use strict';
// The OpenTelemetry SDK as an app runs it, exporting nowhere: a batch span processor and a metric
// reader collecting every second, both handing what they collect to exporters that discard it.
// Used by bench/server.js (variant gated-otel) and bench/otel.js. The SDK is a devDependency.

function discarding() {
  return {
    exported: 0,
    export(items, done) {
      this.exported += Array.isArray(items) ? items.length : 1;
      done({ code: 0 });
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
}

function telemetryProviders() {
  const { BatchSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace');
  const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
  const spans = discarding();
  const metrics = discarding();
  const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: spans })] });
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 1000 })],
  });
  return {
    tracerProvider,
    meterProvider,
    spans,
    shutdown: () => Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]),
  };
}

module.exports = { telemetryProviders };
