import type { CheckInput } from './types';
import { markStiggGateError } from './stigg-gate-error';
import { isPlainObject } from '../util/plain-object';
import { isUnitCount } from '../util/unit-count';

/** Longest id accepted (as the middleware: Stigg's ids are far shorter); bounds every key the cache and the store hold. */
export const MAX_ID_LENGTH = 256;

export type IdName = 'customerId' | 'featureId' | 'resourceId';

/**
 * A customer, feature or resource id that cannot be a Stigg id: not a string, blank (spaces,
 * U+00A0 …), surrounded by whitespace, longer than MAX_ID_LENGTH, holding control characters
 * (the cache key separator is one) or a lone surrogate (not valid UTF-16: encoded, it becomes U+FFFD). Request data, so the middleware answers 400 (401 for the customer).
 */
export class InvalidIdError extends TypeError {
  override readonly name = 'InvalidIdError';
  readonly errorCode: string = 'ERR_STIGG_GATE_INVALID_ID';
  readonly status: 400 | 401;

  constructor(
    readonly field: IdName,
    readonly problem: string,
    where?: string,
  ) {
    super(`${where === undefined ? '' : `${where}: `}${field} ${problem}`);
    this.status = field === 'customerId' ? 401 : 400;
  }
}
markStiggGateError(InvalidIdError);

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The last ids found usable: most calls repeat a feature id and a customer id just seen, and the checks below cost ~50 ns. */
const recent: string[] = ['', '', '', ''];
let recentAt = 0;

/** What is wrong with `value` as an id, or undefined when it is a usable one. */
export function idProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${value === null ? 'null' : typeof value}`;
  if (value !== '' && (value === recent[0] || value === recent[1] || value === recent[2] || value === recent[3])) return undefined;
  const problem = checkId(value);
  if (problem === undefined) {
    recent[recentAt] = value;
    recentAt = (recentAt + 1) & 3;
  }
  return problem;
}

function checkId(value: string): string | undefined {
  if (value.trim() === '') return value === '' ? 'must be a non-empty string' : 'must not be blank';
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters (got ${value.length})`;
  if (value.trim() !== value) return 'must not start or end with whitespace';
  if (CONTROL.test(value)) return 'must not contain control characters';
  // A lone surrogate is encoded as U+FFFD on the wire and in Redis: "x\uD800" and "x\uFFFD" would share a key.
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (it holds a lone surrogate)';
  return undefined;
}

/** Returns `value` when it is a usable id; throws InvalidIdError (a TypeError, status 400/401) otherwise. */
export function validateId(value: unknown, field: IdName, where?: string): string {
  const problem = idProblem(value);
  if (problem !== undefined) throw new InvalidIdError(field, problem, where);
  return value as string;
}

/** Most values one check may ask of an ENUM feature. */
export const MAX_REQUESTED_VALUES = 100;

/** What is wrong with `values` as the requestedValues of a check, or undefined when usable. */
export function valuesProblem(values: unknown): string | undefined {
  if (!Array.isArray(values)) return `must be an array of strings, got ${values === null ? 'null' : typeof values}`;
  if (values.length > MAX_REQUESTED_VALUES) return `must hold at most ${MAX_REQUESTED_VALUES} values (got ${values.length})`;
  for (const value of values as unknown[]) {
    const problem = idProblem(value);
    if (problem !== undefined) return `holds a value that ${problem}`;
  }
  return undefined;
}

/** Validates a check's input before any work; returns the requested units. */
export function validateInput(input: CheckInput, what: string): number {
  if (!isPlainObject(input)) {
    throw new TypeError(`${what} expects { customerId, featureId, resourceId?, requestedUsage?, requestedValues?, mode? }.`);
  }
  validateId(input.customerId, 'customerId', what);
  validateId(input.featureId, 'featureId', what);
  if (input.resourceId !== undefined && input.resourceId !== null) validateId(input.resourceId, 'resourceId', what);
  if (input.requestedValues !== undefined) {
    const problem = valuesProblem(input.requestedValues);
    if (problem !== undefined)
      throw new TypeError(`${what}: requestedValues ${problem}. Please pass the ENUM values asked, e.g. ['gpt-4o'].`);
  }
  const mode = input.mode;
  if (mode !== undefined && mode !== 'enforce' && mode !== 'shadow') {
    throw new TypeError(`${what}: ${String(mode)} is not a valid mode. Please choose 'enforce' or 'shadow', or omit it.`);
  }
  const requested = input.requestedUsage ?? 0;
  if (!isUnitCount(requested)) {
    throw new TypeError(
      `${what}: ${String(requested)} is not a valid requestedUsage. Please pass a number >= 0 and at most Number.MAX_SAFE_INTEGER.`,
    );
  }
  return requested;
}
