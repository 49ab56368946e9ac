import { STIGG_ERROR_CODES } from './generated/error-codes';
import type { StiggGraphQLErrorEntry } from './errors';

/** Stigg codes that say "not now" rather than "never": the same request may succeed later. */
const TRANSIENT_STIGG_CODES: ReadonlySet<string> = new Set(['RateLimitExceeded', 'UnexpectedError']);

/** Codes that reject the API key itself (Apollo's and Stigg's spellings). */
const AUTH_CODES: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'Unauthenticated', 'IdentityForbidden']);

/** GraphQL server codes (Apollo) for a request that can never succeed as sent. */
const REQUEST_CODES = [
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
];

/** Known codes of a permanent rejection: Stigg's domain codes (CustomerNotFound …) and request errors. */
const PERMANENT_CODES: ReadonlySet<string> = new Set(
  [...STIGG_ERROR_CODES, ...REQUEST_CODES].filter((code) => !TRANSIENT_STIGG_CODES.has(code) && !AUTH_CODES.has(code)),
);

function codeOf(entry: StiggGraphQLErrorEntry): string | undefined {
  const code = entry.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isAuthFailure(errors: readonly StiggGraphQLErrorEntry[]): boolean {
  return errors.some((entry) => AUTH_CODES.has(codeOf(entry) ?? ''));
}

/**
 * Whether trying the same request again may succeed. Only a known permanent code makes an error
 * permanent (a usage report is dropped on it); a server-side code (INTERNAL_SERVER_ERROR,
 * SERVICE_UNAVAILABLE …), an unknown code or none is transient. A 4xx answer without any code is a
 * rejected request (permanent).
 */
export function isTransientGraphQLFailure(status: number, errors: readonly StiggGraphQLErrorEntry[]): boolean {
  if (errors.length === 0) return status === 429 || status >= 500;
  return errors.some(function transientEntry(entry) {
    const code = codeOf(entry);
    if (code === undefined) return status < 400 || status === 429 || status >= 500;
    return !PERMANENT_CODES.has(code);
  });
}
