/** Argument checks run before anything is sent: a bad call throws a TypeError and no request leaves. */

function describe(value: unknown): string {
  if (value === '') return 'an empty string';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  return typeof value === 'string' && value.trim() === '' ? 'a blank string' : typeof value;
}

function fail(method: string, label: string, expected: string, value: unknown): never {
  throw new TypeError(`StiggClient.${method}(): ${label} must be ${expected} (got ${describe(value)}).`);
}

export function requireObject(method: string, label: string, value: unknown): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(method, label, 'an object', value);
}

export function requireId(method: string, label: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') fail(method, label, 'a non-empty string', value);
}

/** Absent (undefined or null) or a non-empty string. */
export function optionalId(method: string, label: string, value: unknown): void {
  if (value !== undefined && value !== null) requireId(method, label, value);
}

export function requireFinite(method: string, label: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(method, label, 'a finite number', value);
}

export function requireNonEmptyArray(method: string, label: string, value: unknown): asserts value is readonly unknown[] {
  if (!Array.isArray(value) || value.length === 0) fail(method, label, 'a non-empty array', value);
}

/** Either of two id fields (Stigg accepts `customerId` or the older `refId`). */
export function requireEitherId(method: string, label: string, first: unknown, second: unknown): void {
  const present = [first, second].find((value) => value !== undefined && value !== null);
  if (typeof present !== 'string' || present.trim() === '') fail(method, label, 'a non-empty string', present);
}
