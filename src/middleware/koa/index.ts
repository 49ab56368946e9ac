import type { Context, Middleware, Next } from 'koa';
import type { StatusMapping, Decision } from '../../core';
import * as g from '../gate';
import { refuseUncalledMount } from '../uncalled';
import { settleAnswer } from '../node-host';
import { answerThrown, enterRequest, gatedMiddleware, rethrow, throwsMissing, type Host } from '../pipeline';
import { PROBLEM_CONTENT_TYPE, retryAfterHeader, type ProblemDetails } from '../problem';

/** Renders a denial yourself instead of the default problem+json response (set ctx.status and ctx.body). */
export type OnDenied = (decision: Decision, ctx: Context, problem: ProblemDetails) => void | Promise<void>;
export type StiggOptions = g.StiggOptionsFor<Context, OnDenied>;
export type RequireFeatureOptions = g.RequireFeatureOptionsFor<Context, OnDenied>;
export type EntitlementErrorHandlerOptions = { statusMapping?: StatusMapping | undefined };

declare module 'koa' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface DefaultState extends g.DecisionBag {}
}

const flavor: g.Flavor = { module: 'stigg-gate/koa', arg: 'ctx', customerExample: 'ctx.state.user?.stiggCustomerId' };
const kGate = Symbol.for('stigg-gate.koa.gate');
type GatedContext = Context & { [kGate]?: g.RequestGate<Context, OnDenied> };

const host: Host<Context, OnDenied, Context, Next, undefined, unknown> = {
  gate: (ctx) => (ctx as GatedContext)[kGate],
  missing: throwsMissing(flavor),
  gone: (ctx) => g.isResponseGone(ctx.res),
  left: () => undefined,
  record: (ctx, _next, decision) => g.recordDecision(ctx.state, decision),
  proceed: (ctx, next, _none, settlement) => (settlement === undefined ? next() : settleAnswer(ctx, next, settlement)),
  send(ctx, _next, problem, retryAfterSeconds) {
    ctx.status = problem.status;
    ctx.body = problem;
    ctx.type = PROBLEM_CONTENT_TYPE;
    if (retryAfterSeconds !== undefined) ctx.set('Retry-After', retryAfterHeader(retryAfterSeconds));
  },
  deny: (onDenied, decision, ctx, _next, _none, problem) => onDenied(decision, ctx, problem),
  fail: rethrow,
  header: (ctx, _next, name, value) => ctx.set(name, value),
};

/** Sets up the per-request context that requireFeature() and decorated methods use. Does no work by itself. */
export function stigg(options: StiggOptions): Middleware {
  const config = g.resolveStiggOptions<Context, OnDenied>(flavor, options);
  return function stiggMiddleware(ctx: Context, next: Next) {
    const gate = new g.RequestGate(config, ctx, ctx.method);
    (ctx as GatedContext)[kGate] = gate;
    return enterRequest(gate, next);
  };
}

/**
 * Gates a route on `featureId`, reserving `requestedUsage` (a number, or a function of ctx) by the rule of
 * docs/usage.md; `ctx.state.entitlement` holds the decision (and settle(units)). Answers 402/403/401/400/503
 * problem+json (docs/options.md); without stigg() in front it throws a TypeError naming the fix.
 */
export function requireFeature(featureId: string, usage?: g.RequestedUsage<Context>, options?: RequireFeatureOptions): Middleware {
  return gatedMiddleware(host, g.resolveRouteOptions<Context, OnDenied>(flavor, featureId, usage, options)) as Middleware;
}

/** Renders the entitlement errors decorated methods throw as problem+json; rethrows every other error. Mount it before the routes. */
export function entitlementErrorHandler(options?: EntitlementErrorHandlerOptions): Middleware {
  const { statusMapping: mapping } = g.resolveErrorHandlerOptions(flavor, options, 'app.use(entitlementErrorHandler()) before your routes');
  return async function entitlementErrorHandlerMiddleware(ctx: Context, next: Next) {
    try {
      await next();
    } catch (error) {
      if (!answerThrown(host, ctx, next, ctx.headerSent, error, mapping, (ctx as GatedContext)[kGate]?.config)) throw error;
    }
  };
}

// app.use(requireFeature) without the call throws at app.use(), which reads `_name` (src/middleware/uncalled.ts).
for (const factory of [stigg, requireFeature, entitlementErrorHandler]) refuseUncalledMount(factory, '_name');

export * from '../adapter-exports';
export { stiggWebhook } from './webhook';
