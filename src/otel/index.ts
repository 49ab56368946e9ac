/**
 * stigg-gate/otel: OpenTelemetry for the gate. Needs the optional peer `@opentelemetry/api`; nothing
 * else in the package imports it, so apps without it pay nothing.
 */
export { instrument } from './instrument';
export type { InstrumentOptions } from './instrument';
