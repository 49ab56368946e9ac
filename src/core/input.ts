import type { CheckInput } from './types';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a check's input before any work; returns the requested units. */
export function validateInput(input: CheckInput, what: string): number {
  if (!isPlainObject(input)) {
    throw new TypeError(`${what} expects { customerId, featureId, resourceId?, requestedUsage? }.`);
  }
  if (typeof input.customerId !== 'string' || input.customerId === '') {
    throw new TypeError(`${what}: customerId must be a non-empty string (the Stigg customer id).`);
  }
  if (typeof input.featureId !== 'string' || input.featureId === '') {
    throw new TypeError(`${what}: featureId must be a non-empty string (a Stigg feature id).`);
  }
  const resourceId = input.resourceId;
  if (resourceId !== undefined && resourceId !== null && (typeof resourceId !== 'string' || resourceId === '')) {
    throw new TypeError(`${what}: resourceId must be a non-empty string or undefined.`);
  }
  const requested = input.requestedUsage ?? 0;
  if (typeof requested !== 'number' || !(requested >= 0) || requested === Infinity) {
    throw new TypeError(`${what}: ${String(requested)} is not a valid requestedUsage. Please pass a finite number >= 0.`);
  }
  return requested;
}
