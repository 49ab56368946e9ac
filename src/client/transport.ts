import { ClientError, GraphQLClient } from 'graphql-request';
import {
  StiggAuthError,
  StiggError,
  StiggGraphQLError,
  StiggHttpError,
  StiggNetworkError,
  StiggTimeoutError,
} from './errors';
import type { StiggGraphQLErrorEntry } from './errors';
import type { LoadedOperation } from './documents';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;
type GraphQLClientFetch = NonNullable<NonNullable<ConstructorParameters<typeof GraphQLClient>[1]>['fetch']>;

export interface TransportConfig {
  apiUrl: string;
  apiKey: string;
  timeoutMs: number;
  fetch: FetchLike;
}

/** Connection failures that prove no byte of the request reached the server. */
const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const COPIED_ERROR_FIELDS = ['code', 'errno', 'syscall', 'address', 'port', 'hostname'] as const;
const MAX_BODY_IN_CAUSE = 500;

/** Marks a rejection of fetch itself, as opposed to a failure while reading the response. */
class FetchRejected {
  constructor(readonly error: unknown) {}
}

/** One HTTP attempt of one operation. Never retries; every failure becomes a StiggError. */
export async function sendOnce(config: TransportConfig, operation: LoadedOperation, variables: object): Promise<unknown> {
  const controller = new AbortController();
  const timer = setTimeout(function abortOnTimeout() {
    controller.abort();
  }, config.timeoutMs);
  timer.unref();
  let status: number | undefined;
  const client = new GraphQLClient(config.apiUrl, {
    headers: { 'X-API-KEY': config.apiKey },
    fetch: async function fetchAndRecord(input: string, init?: RequestInit): Promise<Response> {
      let response: Response;
      try {
        response = await config.fetch(input, init);
      } catch (error) {
        throw new FetchRejected(error);
      }
      status = response.status;
      return response;
    } as GraphQLClientFetch,
  });
  try {
    const response = await client.rawRequest<Record<string, unknown>>({
      query: operation.query,
      variables: variables as Record<string, unknown>,
      signal: controller.signal,
    });
    const data = response.data as Record<string, unknown> | null | undefined;
    if (data === null || data === undefined || !(operation.rootField in data)) {
      throw new StiggHttpError(operation.name, response.status, undefined, {
        cause: new Error(`the response has no data.${operation.rootField}`),
      });
    }
    return data[operation.rootField];
  } catch (error) {
    throw toStiggError(error, operation.name, config, controller.signal.aborted, status);
  } finally {
    clearTimeout(timer);
  }
}

function toStiggError(error: unknown, operation: string, config: TransportConfig, timedOut: boolean, status: number | undefined): StiggError {
  if (error instanceof StiggError) return error;
  const secret = config.apiKey;
  const original = error instanceof FetchRejected ? error.error : error;
  if (timedOut) return new StiggTimeoutError(operation, config.timeoutMs, { cause: scrubError(original, secret) });
  if (error instanceof FetchRejected) {
    const codes = errorCodes(original);
    const requestSent = codes.length === 0 || codes.some((code) => !NEVER_SENT_CODES.has(code));
    return new StiggNetworkError(operation, codes[0], requestSent, { cause: scrubError(original, secret) });
  }
  if (error instanceof ClientError) return fromClientError(error, operation, secret);
  // The body could not be parsed (e.g. truncated JSON); graphql-request rethrows the parser's error.
  return new StiggHttpError(operation, status ?? 0, undefined, { cause: scrubError(original, secret) });
}

function fromClientError(error: ClientError, operation: string, secret: string): StiggError {
  const { response } = error;
  const status = response.status;
  const errors = Array.isArray(response.errors) ? response.errors.map((entry) => sanitizeEntry(entry, secret)) : [];
  const body = (response as { error?: unknown }).error;
  const cause = Object.assign(new Error(redact(`GraphQL Error (Code: ${status})`, secret)), {
    name: 'ClientError',
    response: {
      status,
      errors,
      ...(typeof body === 'string' ? { body: redact(body.slice(0, MAX_BODY_IN_CAUSE), secret) } : {}),
    },
  });
  const unauthenticated = errors.some((entry) => entry.extensions?.code === 'UNAUTHENTICATED');
  if (status === 401 || status === 403 || unauthenticated) return new StiggAuthError(operation, status, { cause });
  if (status === 429 || status >= 500) {
    return new StiggHttpError(operation, status, parseRetryAfter((response.headers as Headers | undefined)?.get('retry-after') ?? null), { cause });
  }
  if (errors.length > 0) return new StiggGraphQLError(operation, status, errors, { cause });
  return new StiggHttpError(operation, status, undefined, { cause });
}

function sanitizeEntry(entry: unknown, secret: string): StiggGraphQLErrorEntry {
  const raw = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const result: StiggGraphQLErrorEntry = { message: redact(typeof raw.message === 'string' ? raw.message : 'Unknown error', secret) };
  if (Array.isArray(raw.path)) result.path = raw.path.filter((part): part is string | number => typeof part === 'string' || typeof part === 'number');
  if (typeof raw.extensions === 'object' && raw.extensions !== null) {
    result.extensions = redactDeep(raw.extensions, secret, 0) as StiggGraphQLErrorEntry['extensions'];
  }
  return result;
}

/** Retry-After as delta-seconds or an HTTP date, in ms from now; undefined when absent or malformed. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 20) {
    const next = pending.shift();
    if (typeof next !== 'object' || next === null || seen.has(next)) continue;
    seen.add(next);
    const { code, cause, errors } = next as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && !codes.includes(code)) codes.push(code);
    pending.push(cause);
    if (Array.isArray(errors)) pending.push(...errors);
  }
  return codes;
}

function redact(text: string, secret: string): string {
  return text.split(secret).join('[redacted]');
}

function redactDeep(value: unknown, secret: string, depth: number): unknown {
  if (typeof value === 'string') return redact(value, secret);
  if (typeof value !== 'object' || value === null || depth > 5) return typeof value === 'object' ? undefined : value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secret, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, secret, depth + 1)]));
}

/**
 * A copy of an error (and its cause chain) holding only the message, name, stack and system-error
 * fields, with the API key cut out of every string: whatever an injected fetch attached to its
 * errors (request headers, config objects) stays behind.
 */
export function scrubError(error: unknown, secret: string, depth = 0): Error {
  if (!(error instanceof Error)) return new Error(redact(String(error), secret));
  const cause = depth < 5 && error.cause !== undefined ? scrubError(error.cause, secret, depth + 1) : undefined;
  const copy = new Error(redact(error.message, secret), cause === undefined ? undefined : { cause });
  copy.name = redact(error.name, secret);
  copy.stack = redact(error.stack ?? '', secret);
  const fields = copy as unknown as Record<string, unknown>;
  for (const field of COPIED_ERROR_FIELDS) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (typeof value === 'string') fields[field] = redact(value, secret);
    else if (typeof value === 'number') fields[field] = value;
  }
  if (error instanceof AggregateError && depth < 5) {
    fields.errors = error.errors.slice(0, 10).map((inner: unknown) => scrubError(inner, secret, depth + 1));
  }
  return copy;
}
