import type { FastifyInstance } from 'fastify';
import { PROBLEM_TYPE_PREFIX, type ProblemDetails } from '../problem';

/** The name entitlementErrorHandler()'s function has (Fastify binds it: 'bound ' + this). */
export const HANDLER_NAME = 'stiggEntitlementErrorHandler';

/** What a 500 answered in place of Fastify's default error body says: nothing of the error. */
export const INTERNAL_PROBLEM: ProblemDetails = Object.freeze({
  type: `${PROBLEM_TYPE_PREFIX}internal-error`,
  title: 'Internal Server Error',
  status: 500,
  detail: 'The request could not be checked against its entitlements.',
});

/** An error the app meant the client to see (an HTTP error with a 4xx statusCode, as @fastify/sensible makes). */
export function isClientError(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

type Scope = Partial<Pick<FastifyInstance, 'errorHandler'>> | null;

/**
 * Whether an error handed to Fastify on a route of `server` ends in Fastify's default error handler,
 * whose body echoes error.message: the scope set no handler of its own, or only entitlementErrorHandler(),
 * which rethrows such errors to the parent scope's (a child scope's prototype is its parent).
 */
export function reachesDefaultHandler(server: FastifyInstance): boolean {
  let scope = server as Scope;
  while (scope !== null) {
    const handler = scope.errorHandler;
    if (typeof handler !== 'function') return false;
    if (handler.name === 'defaultErrorHandler') return true;
    if (!handler.name.endsWith(HANDLER_NAME)) return false;
    let parent = Object.getPrototypeOf(scope) as Scope;
    while (parent !== null && parent.errorHandler === handler) parent = Object.getPrototypeOf(parent) as Scope;
    scope = parent;
  }
  return false;
}

/** requireFeature() on a route no stiggPlugin scope covers. */
export function outsidePluginError(featureId: string): TypeError {
  return new TypeError(
    `requireFeature('${featureId}') ran on a request whose route is outside every stiggPlugin scope. Register it first: app.register(stiggPlugin, { entitlements, customer }) from 'stigg-gate/fastify', in this scope or a parent.`,
  );
}
