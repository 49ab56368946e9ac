import type { Context, Middleware, Next } from 'koa';
import { isRequestContextEnabled, requestContextStorage } from '../../core/context';
import type { StatusMapping } from '../../core/errors';
import type { Decision } from '../../core/types';
import * as g from '../gate';
import { runGate, type Host } from '../pipeline';
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
export type StiggOptions = g.StiggOptionsFor<Context, OnDenied>;
export type RequireFeatureOptions = g.RequireFeatureOptionsFor<Context, OnDenied>;
export interface EntitlementErrorHandlerOptions {
  statusMapping?: StatusMapping | undefined;
}

const flavor: g.Flavor = { module: 'stigg-gate/koa', arg: 'ctx', customerExample: 'ctx.state.user?.stiggCustomerId' };
const kGate = Symbol.for('stigg-gate.koa.gate');
type GatedContext = Context & { [kGate]?: g.RequestGate<Context, OnDenied> };

function send(ctx: Context, problem: ProblemDetails, retryAfterSeconds?: number): void {
  ctx.status = problem.status;
  ctx.body = problem;
  ctx.type = PROBLEM_CONTENT_TYPE;
  if (retryAfterSeconds !== undefined) ctx.set('Retry-After', retryAfterHeader(retryAfterSeconds));
}

/** The handler set its answer (or threw). A body stream that breaks later: cut off once started, else failed. */
function answered(ctx: Context, settlement: g.Settlement<Context>): void {
  const body = ctx.body as { pipe?: unknown; once?: (event: 'error', listener: () => void) => void } | null;
  const res = ctx.res;
  if (typeof body?.pipe === 'function' && typeof body.once === 'function') {
    body.once('error', function bodyBroke() {
      if (res.writableEnded) settlement.answered(res.statusCode);
      else if (res.headersSent) settlement.aborted();
      else settlement.failed();
    });
  }
  settlement.answered(ctx.status, res);
}

const host: Host<Context, OnDenied, Context, Next, undefined, unknown> = {
  gone: (ctx) => g.isResponseGone(ctx.res),
  left: () => undefined,
  record: (ctx, _next, decision) => g.recordDecision(ctx.state, decision),
  proceed(ctx, next, _none, settlement) {
    if (settlement === undefined) return next();
    settlement.watch(ctx.res);
    return next().then(
      () => answered(ctx, settlement),
      (error: unknown) => {
        settlement.failed();
        throw error;
      },
    );
  },
  send: (ctx, _next, _none, problem, retryAfterSeconds) => send(ctx, problem, retryAfterSeconds),
  deny: (onDenied, decision, ctx, _next, _none, problem) => onDenied(decision, ctx, problem),
  fail(_ctx, _next, _none, error) {
    throw error;
  },
};

/** Sets up the per-request context that requireFeature() and decorated methods use. Does no work by itself. */
export function stigg(options: StiggOptions): Middleware {
  const config = g.resolveStiggOptions<Context, OnDenied>(flavor, options);
  return function stiggMiddleware(ctx: Context, next: Next) {
    const gate = new g.RequestGate(config, ctx, ctx.method);
    (ctx as GatedContext)[kGate] = gate;
    return isRequestContextEnabled() ? requestContextStorage.run(gate, next) : next();
  };
}

/**
 * Gates a route on `featureId`, reserving `requestedUsage` (a number, or a function of ctx) by the rule of
 * docs/usage.md; `ctx.state.entitlement` holds the decision (and settle(units)). Answers 402/403/401/400/503
 * problem+json (docs/options.md); without stigg() in front it throws a TypeError naming the fix.
 */
export function requireFeature(featureId: string, requestedUsage?: g.RequestedUsage<Context>, options?: RequireFeatureOptions): Middleware {
  const route = g.resolveRouteOptions<Context, OnDenied>(flavor, featureId, requestedUsage, options);
  return function requireFeatureMiddleware(ctx: Context, next: Next) {
    const gate = (ctx as GatedContext)[kGate];
    if (gate === undefined) throw g.missingStiggError(flavor, route.featureId);
    return runGate(host, gate, route, ctx, next, undefined);
  };
}

/** Renders the entitlement errors decorated methods throw as problem+json; rethrows every other error. Mount it before the routes. */
export function entitlementErrorHandler(options?: EntitlementErrorHandlerOptions): Middleware {
  const { statusMapping: mapping } = g.resolveErrorHandlerOptions(flavor, options, 'app.use(entitlementErrorHandler()) before your routes');
  return async function entitlementErrorHandlerMiddleware(ctx: Context, next: Next) {
    try {
      await next();
    } catch (error) {
      const rendered = ctx.headerSent ? undefined : g.renderThrown(error, mapping, (ctx as GatedContext)[kGate]?.config);
      if (rendered === undefined) throw error;
      send(ctx, rendered.problem, rendered.retryAfterSeconds);
    }
  };
}

export { EntitlementDeniedError, EntitlementUnavailableError } from '../../core/errors';
export { InvalidIdError } from '../../core/input';
export { stiggWebhook } from './webhook';
