import { StiggGateError } from '../core/internal';

/** One entry of a GraphQL response's `errors` array, as Stigg sends it. */
export interface StiggGraphQLErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; traceId?: string; [key: string]: unknown };
}

interface StiggErrorOptions {
  operation: string;
  transient: boolean;
  cause?: unknown;
}

/** Base class of every error the client throws after input validation. */
export class StiggError extends StiggGateError {
  override name = 'StiggError';
  readonly errorCode: string = 'ERR_STIGG_GATE_UPSTREAM';
  /**
   * True when trying again later may succeed: network failures, timeouts, 429 and 5xx, and GraphQL
   * errors whose code is not a known permanent one (INTERNAL_SERVER_ERROR, an unknown code, none).
   */
  readonly transient: boolean;
  /** The client method that failed, e.g. `getEntitlement`. */
  readonly operation: string;

  constructor(message: string, options: StiggErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.transient = options.transient;
    this.operation = options.operation;
  }
}

/** The API key was missing or rejected (HTTP 401/403, or extensions.code UNAUTHENTICATED, FORBIDDEN, Unauthenticated, IdentityForbidden). */
export class StiggAuthError extends StiggError {
  override name = 'StiggAuthError';
  override readonly errorCode: string = 'ERR_STIGG_GATE_UPSTREAM_AUTH';
  /** HTTP status of the response. */
  readonly status: number;

  constructor(operation: string, status: number, options: { cause?: unknown } = {}) {
    super(
      `Stigg rejected the API key (HTTP ${status}) during ${operation}: check the server API key (STIGG_SERVER_API_KEY), ` +
        'which must be the server key of this Stigg environment (Settings > Account > Environments), not a client key',
      { operation, transient: false, cause: options.cause },
    );
    this.status = status;
  }
}

/** Stigg answered with GraphQL errors (an unknown customer, invalid input, a validation failure …). */
export class StiggGraphQLError extends StiggError {
  override name = 'StiggGraphQLError';
  override readonly errorCode: string = 'ERR_STIGG_GATE_UPSTREAM_GRAPHQL';
  /** extensions.code of the first error, e.g. `CustomerNotFound`, `BAD_USER_INPUT`. */
  readonly code: string | undefined;
  readonly path: ReadonlyArray<string | number> | undefined;
  /** Stigg's extensions.traceId: quote it when contacting Stigg support. */
  readonly traceId: string | undefined;
  readonly status: number;
  readonly errors: readonly StiggGraphQLErrorEntry[];

  constructor(
    operation: string,
    status: number,
    errors: readonly StiggGraphQLErrorEntry[],
    options: { transient?: boolean; cause?: unknown } = {},
  ) {
    const [first] = errors;
    const code = first?.extensions?.code;
    const traceId = first?.extensions?.traceId;
    const details = [code, traceId === undefined ? undefined : `traceId ${traceId}`].filter((part) => part !== undefined);
    super(`Stigg ${operation} failed: ${first?.message ?? 'empty error response'}${details.length > 0 ? ` (${details.join(', ')})` : ''}`, {
      operation,
      transient: options.transient ?? false,
      cause: options.cause,
    });
    this.code = typeof code === 'string' ? code : undefined;
    this.path = first?.path;
    this.traceId = typeof traceId === 'string' ? traceId : undefined;
    this.status = status;
    this.errors = errors;
  }
}

/** No response arrived within timeoutMs. The request may or may not have reached Stigg. */
export class StiggTimeoutError extends StiggError {
  override name = 'StiggTimeoutError';
  override readonly errorCode: string = 'ERR_STIGG_GATE_UPSTREAM_TIMEOUT';
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number, options: { cause?: unknown } = {}) {
    super(`Stigg ${operation} timed out after ${timeoutMs} ms`, { operation, transient: true, cause: options.cause });
    this.timeoutMs = timeoutMs;
  }
}

/** The request failed below HTTP (DNS, refused or reset connection, TLS …). */
export class StiggNetworkError extends StiggError {
  override name = 'StiggNetworkError';
  override readonly errorCode: string = 'ERR_STIGG_GATE_UPSTREAM_NETWORK';
  /** The system error code when known, e.g. `ECONNREFUSED`. */
  readonly code: string | undefined;
  /** False when the failure proves the request never left this process (connection refused, DNS failure). */
  readonly requestSent: boolean;

  constructor(operation: string, code: string | undefined, requestSent: boolean, options: { cause?: unknown } = {}) {
    super(`Could not reach Stigg during ${operation}${code === undefined ? '' : ` (${code})`}`, {
      operation,
      transient: true,
      cause: options.cause,
    });
    this.code = code;
    this.requestSent = requestSent;
  }
}

/** Stigg answered with an HTTP error and no usable GraphQL errors (429, 5xx, an HTML error page …). */
export class StiggHttpError extends StiggError {
  override name = 'StiggHttpError';
  override readonly errorCode: string = 'ERR_STIGG_GATE_UPSTREAM_HTTP';
  readonly status: number;
  /** Parsed Retry-After (seconds or HTTP date) in ms, when the response carried one. */
  readonly retryAfterMs: number | undefined;

  constructor(operation: string, status: number, retryAfterMs: number | undefined, options: { cause?: unknown } = {}) {
    super(`Stigg ${operation} failed with HTTP ${status}`, {
      operation,
      transient: status === 429 || status >= 500,
      cause: options.cause,
    });
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}
