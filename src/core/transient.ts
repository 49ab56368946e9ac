import type { UpstreamOutcome } from './types';

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function statusOf(error: Record<string, unknown>): number | undefined {
  const response = error['response'] as Record<string, unknown> | undefined;
  const status = error['status'] ?? error['statusCode'] ?? response?.['status'];
  return typeof status === 'number' ? status : undefined;
}

/**
 * Whether retrying may succeed: the error says so (`transient`), or, lacking that, it looks like a
 * network failure, a timeout, a 429 or a 5xx.
 */
export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const record = error as Record<string, unknown>;
  if (typeof record['transient'] === 'boolean') return record['transient'];
  const status = statusOf(record);
  if (status !== undefined) return status === 429 || status >= 500;
  const name = record['name'];
  if (name === 'AbortError' || name === 'TimeoutError' || name === 'FetchError') return true;
  const cause = record['cause'] as Record<string, unknown> | undefined;
  const code = record['code'] ?? cause?.['code'];
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  return error instanceof TypeError && /fetch failed|network|socket/i.test(error.message);
}

/**
 * Codes with which Stigg rejects one usage report for good: the customer, resource or feature does
 * not exist, or the value is not acceptable. Retrying cannot help; anything else may (an outage, a
 * key being rotated, a deployment that fixes a document), so anything else is retried.
 */
const REJECTION_CODES = new Set([
  'CustomerNotFound',
  'CustomerResourceNotFound',
  'FeatureNotFound',
  'BadUserInput',
  'BAD_USER_INPUT',
  'InvalidArgumentError',
  'InvalidQuantity',
  'EntitlementUsageOutOfRangeError',
  'UsageMeasurementDiffOutOfRangeError',
  'CannotReportUsageForEntitlementWithMeterError',
  'MeteringNotAvailableForFeatureType',
  'UnsupportedFeatureType',
]);

export type FailureKind = 'transient' | 'auth' | 'rejected' | 'unknown';

function codesOf(record: Record<string, unknown>): string[] {
  const codes: string[] = [];
  if (typeof record['code'] === 'string') codes.push(record['code']);
  const errors = record['errors'];
  if (Array.isArray(errors)) {
    for (const entry of errors as Array<{ extensions?: { code?: unknown } } | null>) {
      const code = entry?.extensions?.code;
      if (typeof code === 'string') codes.push(code);
    }
  }
  return codes;
}

/** How the usage pipeline treats a failed delivery (see REJECTION_CODES). */
export function failureKind(error: unknown): FailureKind {
  if (isTransientError(error)) return 'transient';
  if (typeof error !== 'object' || error === null) return 'unknown';
  const record = error as Record<string, unknown>;
  const status = statusOf(record);
  if (record['name'] === 'StiggAuthError' || status === 401 || status === 403) return 'auth';
  const codes = codesOf(record);
  if (codes.includes('UNAUTHENTICATED') || codes.includes('Unauthenticated')) return 'auth';
  return codes.length > 0 && codes.every((code) => REJECTION_CODES.has(code)) ? 'rejected' : 'unknown';
}

/** The category of a failed call to Stigg, for 'upstream:call' (a 429 is 'rate-limited', else its FailureKind). */
export function callOutcome(error: unknown): Exclude<UpstreamOutcome, 'ok'> {
  if (typeof error === 'object' && error !== null && statusOf(error as Record<string, unknown>) === 429) return 'rate-limited';
  return failureKind(error);
}

/** The code Stigg refused a report with (BAD_USER_INPUT, CustomerNotFound…), for logs and events. */
export function refusalCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'rejected';
  return codesOf(error as Record<string, unknown>)[0] ?? 'rejected';
}
