import type { Context, Middleware, Next } from 'koa';
import { isRequestContextEnabled, requestContextStorage } from '../../core/context';
import { isThenable } from '../../core/maybe-promise';
import { EntitlementDeniedError, EntitlementUnavailableError, type StatusMapping } from '../../core/errors';
import type { Decision, MaybePromise } from '../../core/types';
import {
  RequestGate,
  missingStiggError,
  recordDecision,
  resolveErrorHandlerOptions,
  resolveRouteOptions,
  resolveStiggOptions,
  isResponseGone,
  releaseQuietly,
  renderThrown,
  settleable,
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

declare module 'koa' {
  interface DefaultState {
    /** The decision of the last requireFeature that granted this request. */
    entitlement?: Decision;
    /** Every granted requireFeature decision on this request, by feature id. */
    entitlements?: Record<string, Decision>;
  }
}

/** Renders a denial yourself instead of the default problem+json response (set ctx.status and ctx.body). */
export type OnDenied = (decision: Decision, ctx: Context, problem: ProblemDetails) => void | Promise<void>;

export type StiggOptions = StiggOptionsFor<Context, OnDenied>;
export type RequireFeatureOptions = RequireFeatureOptionsFor<Context, OnDenied>;

export interface EntitlementErrorHandlerOptions {
  statusMapping?: StatusMapping;
}

const flavor: Flavor = { module: 'stigg-gate/koa', arg: 'ctx', customerExample: 'ctx.state.user?.stiggCustomerId' };
const kGate = Symbol.for('stigg-gate.koa.gate');

type Gate = RequestGate<Context, OnDenied>;
type Route = RouteConfig<Context, OnDenied>;
type GatedContext = Context & { [kGate]?: Gate };

/** Sets up the per-request context that requireFeature() and decorated methods use. Does no work by itself. */
export function stigg(options: StiggOptions): Middleware {
  const config = resolveStiggOptions<Context, OnDenied>(flavor, options);
  return function stiggMiddleware(ctx: Context, next: Next) {
    const gate = new RequestGate(config, ctx, ctx.method);
    (ctx as GatedContext)[kGate] = gate;
    return isRequestContextEnabled() ? requestContextStorage.run(gate, next) : next();
  };
}

function send(ctx: Context, problem: ProblemDetails, retryAfterSeconds?: number): void {
  ctx.status = problem.status;
  ctx.body = problem;
  ctx.type = PROBLEM_CONTENT_TYPE;
  if (retryAfterSeconds !== undefined) ctx.set('Retry-After', retryAfterHeader(retryAfterSeconds));
}

function apply(gate: Gate, route: Route, outcome: Outcome, ctx: Context, next: Next): unknown {
  if (outcome.kind === 'granted') {
    const lease = outcome.lease;
    if (isResponseGone(ctx.res)) {
      releaseQuietly(lease, gate.config.logger);
      gate.abandon();
      return undefined;
    }
    if (!lease.decision.metered) {
      recordDecision(ctx.state, lease.decision);
      return next();
    }
    const settlement = gate.settlement(route, lease);
    recordDecision(ctx.state, settleable(settlement));
    settlement.watch(ctx.res);
    return next().then(
      function bodySet() {
        // A body stream that breaks after the response started: onAbort (Koa 2 leaves such a response
        // open). One that breaks before it started is a failed answer: Koa's own error listener runs
        // first, and Koa 2 ends a 404/500 at once (that status decides), Koa 3 destroys the response.
        const body = ctx.body as { pipe?: unknown; once?: (event: 'error', listener: () => void) => void } | null;
        if (typeof body?.pipe === 'function' && typeof body.once === 'function') {
          const res = ctx.res;
          body.once('error', function bodyBroke() {
            if (res.writableEnded) settlement.answered(res.statusCode);
            else if (res.headersSent) settlement.aborted();
            else settlement.failed();
          });
        }
        settlement.answered(ctx.status, ctx.res);
      },
      function releaseAndRethrow(error: unknown) {
        settlement.failed();
        throw error;
      },
    );
  }
  if (outcome.kind === 'problem') {
    send(ctx, outcome.problem, outcome.retryAfterSeconds);
    return undefined;
  }
  releaseQuietly(outcome.lease, gate.config.logger);
  // The handler will not run: what earlier gates granted goes back, whatever status onDenied answers.
  gate.abandon();
  const onDenied = gate.onDenied(route);
  if (onDenied === undefined) {
    send(ctx, outcome.problem);
    return undefined;
  }
  return onDenied(outcome.lease.decision, ctx, outcome.problem);
}

/**
 * Gates a route on `featureId`. `requestedUsage` (a number, or a function of ctx) is reserved now and
 * reported when the downstream middleware set the body with a status < 400, whether or not the client
 * read it; released when it answers >= 400 or throws. A body cut off mid-stream follows `onAbort`;
 * `ctx.state.entitlement.settle(units)` reports the units actually used instead.
 * Responses: denials 402/403 (statusForReason, overridable), no customer 401, bad usage from the
 * request 400, no decision under fail-closed 503 + Retry-After, all application/problem+json. A
 * route without stigg() in front throws a TypeError that names the fix (fail closed).
 */
export function requireFeature(
  featureId: string,
  requestedUsage?: number | ((ctx: Context) => MaybePromise<number>),
  options?: RequireFeatureOptions,
): Middleware {
  const route = resolveRouteOptions<Context, OnDenied>(flavor, featureId, requestedUsage, options);
  return function requireFeatureMiddleware(ctx: Context, next: Next) {
    const gate = (ctx as GatedContext)[kGate];
    if (gate === undefined) throw missingStiggError(flavor, route.featureId);
    if (isResponseGone(ctx.res)) {
      gate.abandon();
      return undefined;
    }
    let outcome: MaybePromise<Outcome>;
    try {
      outcome = gate.evaluate(route);
    } catch (error) {
      throw toThrowable(error);
    }
    if (!isThenable(outcome)) return apply(gate, route, outcome, ctx, next);
    return outcome.then(
      function applyOutcome(value) {
        return apply(gate, route, value, ctx, next);
      },
      function failed(error: unknown) {
        throw toThrowable(error);
      },
    );
  };
}

/**
 * Renders EntitlementDeniedError / EntitlementUnavailableError (thrown by decorated methods further
 * down) as problem+json and rethrows every other error. Mount it before the routes.
 */
export function entitlementErrorHandler(options?: EntitlementErrorHandlerOptions): Middleware {
  const { statusMapping: mapping } = resolveErrorHandlerOptions(flavor, options, 'before your routes');
  return async function entitlementErrorHandlerMiddleware(ctx: Context, next: Next) {
    try {
      await next();
    } catch (error) {
      const rendered = ctx.headerSent ? undefined : renderThrown(error, mapping, (ctx as GatedContext)[kGate]?.config);
      if (rendered === undefined) throw error;
      send(ctx, rendered.problem, rendered.retryAfterSeconds);
    }
  };
}

export { EntitlementDeniedError, EntitlementUnavailableError };
export { InvalidIdError } from '../../core/input';
export { stiggWebhook } from './webhook';
