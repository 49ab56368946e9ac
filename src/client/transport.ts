import { GraphQLClient } from 'graphql-request';
import { isAuthFailure, isTransientGraphQLFailure } from './classify';
import { StiggAuthError, StiggError, StiggGraphQLError, StiggHttpError, StiggNetworkError, StiggTimeoutError } from './errors';
import type { StiggGraphQLErrorEntry } from './errors';
import type { LoadedOperation } from './documents';

/** The global fetch's shape; any WHATWG-compatible fetch (Node >= 18, workerd, undici) fits. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

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

/** Marks a failure of the connection (fetch rejected, or the body broke off while being read). */
class FetchRejected extends Error {
  constructor(readonly error: unknown) {
    super('fetch rejected');
  }
}

interface GraphQLResponseBody {
  data?: Record<string, unknown> | null;
  errors?: unknown;
}

/** A response as it came off the wire, its body read in full (once) by the fetch seam. */
interface Received {
  readonly response: Response;
  readonly text: string;
}

/**
 * One HTTP attempt of one operation, sent by graphql-request over the given fetch (the global one
 * by default: no Node built-in is needed, so this runs in workerd and bundles anywhere). Never
 * retries; every failure becomes a StiggError.
 *
 * graphql-request builds the request (POST, the JSON body of query, variables and operationName)
 * and parses the result. The fetch it is handed is a seam of ours: it calls the configured fetch
 * with a string URL and a plain init, marks a rejected fetch or a body that broke off (so that
 * "never reached Stigg" stays distinguishable from "may have been applied"), and keeps what came
 * back. When graphql-request refuses a response (an HTTP error, GraphQL errors, a body that is not
 * a GraphQL result), the StiggError is made from that kept response, never from its ClientError,
 * whose message carries the request's variables.
 */
export async function sendOnce(
  config: TransportConfig,
  operation: LoadedOperation,
  variables: object,
  signal?: AbortSignal,
): Promise<unknown> {
  const controller = new AbortController();
  const timer: unknown = setTimeout(function abortOnTimeout() {
    controller.abort();
  }, config.timeoutMs);
  // The caller's signal (e.g. close() at its deadline) ends the request too: its socket must not keep a process alive.
  const abortWithCaller = (): void => controller.abort();
  if (signal?.aborted === true) controller.abort();
  else signal?.addEventListener('abort', abortWithCaller, { once: true });
  // Node's timers can be unref'd (a pending timeout must not keep a process alive); workerd's are numbers.
  (timer as { unref?: () => void }).unref?.();
  let received: Received | undefined;
  const wire = new GraphQLClient(config.apiUrl, {
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      'X-API-KEY': config.apiKey,
      // As Stigg's own client sends it.
      'x-graphql-operation-name': operation.operationName,
    },
    signal: controller.signal,
    fetch: async function fetchSeam(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
      // graphql-request passes a URL; the configured fetch is documented to get a string.
      const url = typeof input === 'string' ? input : 'href' in input ? input.href : input.url;
      let response: Response;
      try {
        response = await config.fetch(url, {
          method: init.method ?? 'POST',
          headers: Object.fromEntries(new Headers(init.headers).entries()),
          body: init.body ?? null,
          signal: controller.signal,
        });
      } catch (error) {
        throw new FetchRejected(error);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw new FetchRejected(error);
      }
      received = { response, text };
      return {
        ok: response.ok,
        status: response.status,
        headers: response.headers,
        text: () => Promise.resolve(text),
      } as Response;
    },
  });
  try {
    let data: Record<string, unknown> | null | undefined;
    try {
      ({ data } = await wire.rawRequest<Record<string, unknown> | null>(operation.query, variables as Record<string, unknown>));
    } catch (error) {
      if (error instanceof FetchRejected || received === undefined) throw error;
      // Refused by graphql-request: classified from the response itself. A 2xx JSON body served
      // with a content-type graphql-request does not read as JSON is still a GraphQL success.
      data = fromReceived(operation.name, received, config.apiKey);
    }
    if (data === null || data === undefined || !(operation.rootField in data)) {
      throw new StiggHttpError(operation.name, received?.response.status ?? 0, undefined, {
        cause: new Error(`the response has no data.${operation.rootField}`),
      });
    }
    return data[operation.rootField];
  } catch (error) {
    throw toStiggError(error, operation.name, config, controller.signal.aborted, received?.response.status ?? 0);
  } finally {
    clearTimeout(timer as Parameters<typeof clearTimeout>[0]);
    signal?.removeEventListener('abort', abortWithCaller);
  }
}

/** The data of a clean GraphQL success, or throws the StiggError this response amounts to. */
function fromReceived(operation: string, { response, text }: Received, secret: string): Record<string, unknown> | null | undefined {
  const body = parseBody(text);
  const errors = body !== undefined && Array.isArray(body.errors) ? body.errors : [];
  if (body === undefined || !response.ok || errors.length > 0) throw fromResponse(operation, response, body, errors, text, secret);
  return body.data;
}

function parseBody(text: string): GraphQLResponseBody | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function toStiggError(error: unknown, operation: string, config: TransportConfig, timedOut: boolean, status: number): StiggError {
  if (error instanceof StiggError) return error;
  const secret = config.apiKey;
  const original = error instanceof FetchRejected ? error.error : error;
  if (timedOut) return new StiggTimeoutError(operation, config.timeoutMs, { cause: scrubError(original, secret) });
  if (error instanceof FetchRejected) {
    const codes = errorCodes(original);
    const requestSent = codes.length === 0 || codes.some((code) => !NEVER_SENT_CODES.has(code));
    return new StiggNetworkError(operation, codes[0], requestSent, { cause: scrubError(original, secret) });
  }
  return new StiggHttpError(operation, status, undefined, { cause: scrubError(original, secret) });
}

/** A response that is not a clean GraphQL success: classify it, keeping a scrubbed copy of what came back as the cause. */
function fromResponse(
  operation: string,
  response: Response,
  body: GraphQLResponseBody | undefined,
  rawErrors: readonly unknown[],
  text: string,
  secret: string,
): StiggError {
  const { status } = response;
  const errors = rawErrors.map((entry) => sanitizeEntry(entry, secret));
  const parsed = body !== undefined;
  const cause = Object.assign(new Error(redact(`GraphQL Error (Code: ${status})`, secret)), {
    name: 'ClientError',
    response: {
      status,
      errors,
      ...(parsed ? {} : { body: redact(text.slice(0, MAX_BODY_IN_CAUSE), secret) }),
    },
  });
  if (status === 401 || status === 403 || isAuthFailure(errors)) return new StiggAuthError(operation, status, { cause });
  if (status === 429 || status >= 500) {
    return new StiggHttpError(operation, status, parseRetryAfter(response.headers.get('retry-after')), { cause });
  }
  if (errors.length > 0)
    return new StiggGraphQLError(operation, status, errors, {
      transient: isTransientGraphQLFailure(status, errors),
      cause,
    });
  // A body that is not a GraphQL response (truncated JSON, an HTML page), or a 4xx without errors.
  if (!parsed) cause.message = `GraphQL Error (Code: ${status}): the response is not GraphQL JSON`;
  return new StiggHttpError(operation, status, undefined, { cause });
}

function sanitizeEntry(entry: unknown, secret: string): StiggGraphQLErrorEntry {
  const raw = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const result: StiggGraphQLErrorEntry = {
    message: redact(typeof raw.message === 'string' ? raw.message : 'Unknown error', secret),
  };
  if (Array.isArray(raw.path)) {
    result.path = raw.path
      .filter((part): part is string | number => typeof part === 'string' || typeof part === 'number')
      .map((part) => (typeof part === 'string' ? redact(part, secret) : part));
  }
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
    if (Array.isArray(errors)) pending.push(...(errors as unknown[]));
  }
  return codes;
}

function redact(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join('[redacted]');
}

function redactDeep(value: unknown, secret: string, depth: number): unknown {
  if (typeof value === 'string') return redact(value, secret);
  if (typeof value !== 'object' || value === null || depth > 5) return typeof value === 'object' ? undefined : value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secret, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [redact(key, secret), redactDeep(item, secret, depth + 1)]));
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
