import { asError } from '../util/maybe-promise';
import { processWarning } from '../util/process-warning';
import { isTransientError } from './transient';
import type { Logger } from './types';
import { LogThrottle } from '../util/log-throttle';

export type FailureCategory =
  'auth' | 'network' | 'timeout' | 'http' | 'graphql-validation' | 'missing-document' | 'rejected' | 'store' | 'other';

interface Classified {
  readonly category: FailureCategory;
  /** What happened, in a few words, for messages ("Stigg rejected the API key (HTTP 401)"). */
  readonly cause: string;
  readonly fix: string;
}

function field(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[name] : undefined;
}

/** Names the cause of an upstream failure and how to fix it; never includes the API key (the client scrubs it). */
export function classifyFailure(error: unknown): Classified {
  const name = field(error, 'name');
  const status = field(error, 'status');
  const code = field(error, 'code') ?? field(field(error, 'cause'), 'code');
  const message = asError(error).message;
  if (name === 'CircuitOpenError') {
    return {
      category: 'other',
      cause: 'Stigg is considered down after repeated failures (circuit open)',
      fix: 'See the failures logged before; a trial call is made after circuitBreaker.resetTimeoutMs.',
    };
  }
  if (name === 'StiggAuthError' || status === 401 || status === 403 || code === 'UNAUTHENTICATED') {
    return {
      category: 'auth',
      cause: `Stigg rejected the API key${typeof status === 'number' ? ` (HTTP ${status})` : ''}`,
      fix: "Pass this environment's server API key (Stigg: Settings > Account > Environments), e.g. STIGG_SERVER_API_KEY; a client key or another environment's key is refused.",
    };
  }
  if (code === 'ENOENT' || /ENOENT|no such file/i.test(message)) {
    return {
      category: 'missing-document',
      cause: 'a GraphQL operation document of the client is missing',
      fix: 'A bundler left out a file the client reads: bundle stigg-gate as an external dependency, or use a version that compiles its documents in.',
    };
  }
  if (code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED') {
    return {
      category: 'graphql-validation',
      cause: `Stigg refused the query itself (${String(code)})`,
      fix: "The client's documents do not match Stigg's API (an apiUrl pointing elsewhere, or an outdated stigg-gate): check apiUrl, upgrade stigg-gate.",
    };
  }
  if (name === 'StiggTimeoutError' || name === 'TimeoutError' || name === 'AbortError') {
    return {
      category: 'timeout',
      cause: 'Stigg did not answer in time',
      fix: 'Check the latency to Stigg, or raise the client timeoutMs; decisions fall back meanwhile.',
    };
  }
  if (name === 'StiggNetworkError' || (typeof code === 'string' && code.startsWith('E') && isTransientError(error))) {
    return {
      category: 'network',
      cause: `Stigg unreachable${typeof code === 'string' ? ` (${code})` : ''}`,
      fix: 'Check DNS, proxy and firewall rules to the Stigg API URL (apiUrl); decisions fall back meanwhile.',
    };
  }
  if (typeof status === 'number' && (status === 429 || status >= 500)) {
    return {
      category: 'http',
      cause: `Stigg answered HTTP ${status}`,
      fix: 'Stigg is failing or limiting this key: retried with backoff; decisions fall back meanwhile.',
    };
  }
  if (isTransientError(error)) {
    return { category: 'network', cause: `Stigg failed (${message})`, fix: 'Retried with backoff; decisions fall back meanwhile.' };
  }
  if (name === 'StiggGraphQLError') {
    return {
      category: 'rejected',
      cause: `Stigg rejected the request (${typeof code === 'string' ? code : message})`,
      fix: 'Check the customer, feature and resource ids sent.',
    };
  }
  return { category: 'other', cause: `the Stigg client failed (${message})`, fix: 'See the error; report it if it persists.' };
}

/**
 * Upstream failures through the injected logger: the first of a category at `error`, with the cause
 * and the fix, then at most one line a minute per category saying how many were not logged. Without
 * a logger a rejected API key still is not silent: Node's process warning (once), since every request
 * would fail over to the fallback and nothing else tells an operator why.
 */
export class UpstreamLog {
  private readonly throttle: LogThrottle<FailureCategory>;
  private warnedProcess = false;
  /** The cause of the last upstream failure, to name when the circuit is open. */
  lastCause: string | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly hasLogger: boolean,
    now: () => number,
  ) {
    this.throttle = new LogThrottle(now);
  }

  failed(operation: string, error: unknown, meta: Record<string, unknown> = {}): void {
    const { category, cause, fix } = classifyFailure(error);
    this.lastCause = cause;
    if (!this.hasLogger) {
      if (category === 'auth') this.processWarning(`stigg-gate: ${cause} during ${operation}. ${fix}`);
      return;
    }
    const admitted = this.throttle.admit(category);
    if (admitted === undefined) return;
    const { suppressed } = admitted;
    const details = { ...meta, operation, category, cause, fix, error: asError(error).message };
    if (admitted.first) this.logger.error(details, `stigg-gate: ${cause} during ${operation}. ${fix}`);
    else
      this.logger.warn(
        { ...details, suppressed },
        `stigg-gate: ${cause} during ${operation} (${suppressed} more like it in the last minute were not logged)`,
      );
  }

  private processWarning(message: string): void {
    if (this.warnedProcess) return;
    this.warnedProcess = true;
    processWarning(message, 'STIGG_GATE_AUTH');
  }
}
