import type { Context, ErrorHandler, MiddlewareHandler, Next } from 'hono';
import { createMiddleware } from 'hono/factory';
import { isRequestContextEnabled, requestContextStorage } from '../../core/context';
import { isThenable } from '../../core/maybe-promise';
import { EntitlementDeniedError, EntitlementUnavailableError, type StatusMapping } from '../../core/errors';
import type { Decision, Entitlements, Logger, MaybePromise } from '../../core/types';
import { watchBody } from './body';
import { rejectUnknownOptions } from '../../core/unknown-options';
import {
  RequestGate,
  checkStatusMapping,
  looksLikeRequest,
  missingStiggError,
  releaseQuietly,
  renderThrown,
  settleable,
  type Settlement,
  resolveRouteOptions,
  resolveStiggOptions,
  toThrowable,
  type Flavor,
  type Outcome,
  type RouteConfig,
  type StiggOptionsFor,
  type RequireFeatureOptionsFor,
} from '../gate';
import { PROBLEM_CONTENT_TYPE, retryAfterHeader, type ProblemDetails } from '../problem';

export type { ProblemDetails } from '../problem';
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../problem';

declare module 'hono' {
  /** Set on a request a requireFeature() granted: `c.var.entitlement`, `c.var.entitlements`. */
  interface ContextVariableMap {
    /** The decision of the last requireFeature that granted this request. */
    entitlement?: Decision;
    /** Every granted requireFeature decision on this request, by feature id. */
    entitlements?: Record<string, Decision>;
  }
}

/** Renders a denial yourself instead of the default problem+json response. */
export type OnDenied = (decision: Decision, c: Context, problem: ProblemDetails) => Response | Promise<Response>;

export type StiggOptions = StiggOptionsFor<Context, OnDenied>;
export type RequireFeatureOptions = RequireFeatureOptionsFor<Context, OnDenied>;

export interface EntitlementErrorHandlerOptions {
  statusMapping?: StatusMapping;
  /** Renders every other error. Default: an HTTPException's own response, else a plain 500 (the error is logged through stigg()'s logger). */
  onError?: ErrorHandler;
}

const flavor: Flavor = { module: 'stigg-gate/hono', arg: 'c', customerExample: "c.get('user')?.stiggCustomerId" };
const kGate = Symbol.for('stigg-gate.hono.gate');

type Gate = RequestGate<Context, OnDenied>;
type Route = RouteConfig<Context, OnDenied>;
type GatedContext = Context & { [kGate]?: Gate };

/** Sets up the per-request gate that requireFeature() (and decorated methods, on Node) use. Does no work by itself. */
export function stigg(options: StiggOptions): MiddlewareHandler {
  const config = resolveStiggOptions<Context, OnDenied>(flavor, options);
  // Hono middleware await next() and resolve to nothing: handing next()'s value (the Context) back
  // up measured 1.3-2.4x slower per request on @hono/node-server.
  return createMiddleware(async function stiggMiddleware(c, next) {
    const gate = new RequestGate<Context, OnDenied>(config, c, c.req.method);
    (c as GatedContext)[kGate] = gate;
    if (isRequestContextEnabled()) await requestContextStorage.run(gate, next);
    else await next();
  });
}

function problemResponse(problem: ProblemDetails, retryAfterSeconds?: number): Response {
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = retryAfterHeader(retryAfterSeconds);
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}

function recordDecision(c: Context, decision: Decision): void {
  c.set('entitlement', decision);
  let all = c.get('entitlements');
  if (all === undefined) c.set('entitlements', (all = {}));
  // A keyed store, not `{ [featureId]: decision }`: a computed key in a literal is a runtime call in V8.
  all[decision.featureId] = decision;
}

interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/** Hono's executionCtx getter throws where the runtime passed none (Node). */
function executionContext(c: Context): WaitUntil | undefined {
  try {
    const ctx = c.executionCtx as Partial<WaitUntil> | undefined;
    return typeof ctx?.waitUntil === 'function' ? (ctx as WaitUntil) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the runtime can end the isolate once the response is out (Workers), the usage this request
 * just queued is delivered inside waitUntil; elsewhere the usage buffer's own batching sends it.
 */
function deliverAfterResponse(c: Context, entitlements: Entitlements, logger: Logger, featureId: string): void {
  const ctx = executionContext(c);
  if (ctx === undefined) return;
  ctx.waitUntil(
    entitlements.flush().catch(function logFlushFailure(error: unknown) {
      logger.error(
        { featureId, error },
        'stigg-gate: delivering usage before the request ended failed; it stays queued for the next flush',
      );
    }),
  );
}

/**
 * The handler returned its Response (or failed): the one settlement rule of ../settle, whether or not
 * the client is still there. Where the runtime can end the isolate once the response is out
 * (Workers), the usage is delivered inside waitUntil.
 */
function settleAfterHandler(c: Context, settlement: Settlement<Context>, gate: Gate): void {
  const featureId = settlement.lease.decision.featureId;
  if (c.error !== undefined) {
    settlement.failed();
    return;
  }
  const status = c.res.status;
  if (settlement.watchesBody && c.res.body !== null && status < 400) c.res = watchBody(c.res, settlement);
  else {
    settlement.answered(status);
    if (!settlement.committed) return;
  }
  deliverAfterResponse(c, gate.entitlements, gate.config.logger, featureId);
}

async function apply(gate: Gate, route: Route, outcome: Outcome, c: Context, next: Next): Promise<Response | void> {
  if (outcome.kind === 'granted') {
    const lease = outcome.lease;
    // An upstream middleware (a timeout) already answered while the decision was on its way.
    if (c.finalized) {
      releaseQuietly(lease, gate.config.logger);
      return undefined;
    }
    if (lease.decision.metered && c.req.raw.signal.aborted) {
      releaseQuietly(lease, gate.config.logger);
      return new Response(null, { status: 499 }); // nobody is listening: the client went away
    }
    if (!lease.decision.metered) {
      recordDecision(c, lease.decision);
      await next();
      return undefined;
    }
    const settlement = gate.settlement(route, lease);
    recordDecision(c, settleable(settlement));
    try {
      await next();
    } catch (error) {
      settlement.failed();
      throw error;
    }
    settleAfterHandler(c, settlement, gate);
    return undefined;
  }
  if (outcome.kind === 'problem') return problemResponse(outcome.problem, outcome.retryAfterSeconds);
  releaseQuietly(outcome.lease, gate.config.logger);
  // The handler will not run: what earlier gates granted goes back, whatever status onDenied answers.
  gate.abandon();
  const onDenied = gate.onDenied(route);
  if (onDenied === undefined) return problemResponse(outcome.problem);
  return onDenied(outcome.lease.decision, c, outcome.problem);
}

/**
 * Gates a route on `featureId`. `requestedUsage` (a number, or a function of the context) is
 * reserved now and reported when the handler returned its Response with a status < 400, whether or
 * not the client is still there; released when it answers >= 400 or fails. With onAbort other than
 * 'commit', a body cut off while streaming follows it; `c.var.entitlement.settle(units)` reports the
 * units actually used instead. Responses: denials 402/403, no customer 401, bad usage from
 * the request 400, no decision under fail-closed 503 + Retry-After, all application/problem+json.
 * A route without stigg() in front fails with a TypeError that names the fix (fail closed).
 */
export function requireFeature(
  featureId: string,
  requestedUsage?: number | ((c: Context) => MaybePromise<number>),
  options?: RequireFeatureOptions,
): MiddlewareHandler {
  const route = resolveRouteOptions<Context, OnDenied>(flavor, featureId, requestedUsage, options);
  return createMiddleware(async function requireFeatureMiddleware(c, next) {
    const gate = (c as GatedContext)[kGate];
    if (gate === undefined) throw missingStiggError(flavor, route.featureId);
    // Only where usage is at stake: on @hono/node-server, reading the signal creates an AbortController.
    if (route.requestedUsage !== undefined && c.req.raw.signal.aborted) return new Response(null, { status: 499 });
    let outcome: Outcome;
    try {
      const evaluated = gate.evaluate(route);
      outcome = isThenable(evaluated) ? await evaluated : evaluated;
    } catch (error) {
      throw toThrowable(error);
    }
    // The common case inline (a granted check with nothing to settle): one async frame per request, not two.
    if (outcome.kind === 'granted' && !outcome.lease.decision.metered && !c.finalized) {
      recordDecision(c, outcome.lease.decision);
      await next();
      return undefined;
    }
    return apply(gate, route, outcome, c, next);
  });
}

/**
 * An error handler for `app.onError(...)` rendering EntitlementDeniedError /
 * EntitlementUnavailableError (thrown by decorated methods) as problem+json. Every other error goes
 * to `options.onError`.
 */
export function entitlementErrorHandler(options?: EntitlementErrorHandlerOptions): ErrorHandler {
  if (looksLikeRequest(options)) {
    throw new TypeError(
      'entitlementErrorHandler was used without being called. Write app.onError(entitlementErrorHandler()) (stigg-gate/hono).',
    );
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('entitlementErrorHandler() takes an optional options object: entitlementErrorHandler({ statusMapping, onError }).');
  }
  rejectUnknownOptions(options ?? {}, ['statusMapping', 'onError'], 'entitlementErrorHandler()');
  const mapping = checkStatusMapping('entitlementErrorHandler()', options?.statusMapping);
  const onError = options?.onError;
  if (onError !== undefined && typeof onError !== 'function') {
    throw new TypeError('onError of entitlementErrorHandler() must be a Hono error handler: (err, c) => Response.');
  }
  return function stiggEntitlementErrorHandler(error, c) {
    const gate = (c as GatedContext)[kGate];
    const rendered = renderThrown(error, mapping, gate?.config);
    if (rendered !== undefined) return problemResponse(rendered.problem, rendered.retryAfterSeconds);
    if (onError !== undefined) return onError(error, c);
    const withResponse = error as { getResponse?: () => Response };
    if (typeof withResponse.getResponse === 'function') return withResponse.getResponse();
    gate?.config.logger.error({ error }, 'stigg-gate: unhandled error in a Hono route');
    return c.text('Internal Server Error', 500);
  };
}

export { EntitlementDeniedError, EntitlementUnavailableError };
export { InvalidIdError } from '../../core/input';
