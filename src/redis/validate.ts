import type { Logger, PendingUsage } from '../core';
import { silentLogger } from '../core/internal';
import { describeValue } from '../util/describe-value';

export const DEFAULT_PREFIX = 'stigg-gate:';
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;

export function validateTimeout(ms: unknown): number {
  if (ms === undefined) return DEFAULT_COMMAND_TIMEOUT_MS;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new TypeError(
      `RedisStore: ${describeValue(ms)} is not a valid value for commandTimeoutMs. Please choose a positive number of milliseconds.`,
    );
  }
  return ms;
}

export function validateLogger(logger: unknown): Logger {
  if (logger === undefined) return silentLogger;
  const candidate = logger as Logger | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.warn !== 'function' ||
    typeof candidate.error !== 'function'
  ) {
    throw new TypeError('RedisStore: logger must have warn() and error() methods (debug() and info() are optional).');
  }
  return candidate;
}

export function assertKey(operation: string, value: unknown, name = 'key'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`RedisStore.${operation}: ${name} must be a non-empty string, got ${JSON.stringify(value)}.`);
  }
}

export function assertFinite(operation: string, value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`RedisStore.${operation}: ${name} must be a finite number, got ${String(value)}.`);
  }
}

export function toTtl(operation: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new TypeError(`RedisStore.${operation}: the TTL must be a positive number of milliseconds, got ${String(ms)}.`);
  }
  return Math.ceil(ms);
}

export function assertReport(operation: string, report: PendingUsage): void {
  if (typeof report !== 'object' || report === null) {
    throw new TypeError(`RedisStore.${operation}: report must be a PendingUsage object.`);
  }
  assertKey(operation, report.id, 'report.id');
  assertKey(operation, report.idempotencyKey, 'report.idempotencyKey');
  assertKey(operation, report.customerId, 'report.customerId');
  assertKey(operation, report.featureId, 'report.featureId');
  assertFinite(operation, report.value, 'report.value');
}

export function assertIds(operation: string, ids: unknown): asserts ids is string[] {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw new TypeError(`RedisStore.${operation}: ids must be an array of report ids (strings).`);
  }
}
