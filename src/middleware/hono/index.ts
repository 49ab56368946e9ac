import type { Context, ErrorHandler, MiddlewareHandler, Next } from 'hono';
import type { StatusMapping, Decision } from '../../core';
import { isThenable } from '../../util/maybe-promise';
import { goneResponse, problemResponse, settleAround, waitUntilOf, type FetchSide } from '../fetch-host';
import * as g from '../gate';
import { enterRequest, gatedMiddleware, rethrow, throwsMissing, type Host } from '../pipeline';
import type { ProblemDetails } from '../problem';
import { connectionGone, responseStarted } from './node-server';

export * from '../adapter-exports';
export { stiggWebhook } from './webhook';

declare module 'hono' {
  /** Set on a request a requireFeature() granted: `c.var.entitlement`, `c.var.entitlements`. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface ContextVariableMap extends g.DecisionBag {}
}

/** Renders a denial yourself instead of the default problem+json response. */
export type OnDenied = (decision: Decision, c: Context, problem: ProblemDetails) => Response | Promise<Response>;
export type StiggOptions = g.StiggOptionsFor<Context, OnDenied>;
export type RequireFeatureOptions = g.RequireFeatureOptionsFor<Context, OnDenied>;
export type EntitlementErrorHandlerOptions = {
  statusMapping?: StatusMapping | undefined;
  /** Renders every other error. Default: an HTTPException's own response, else a plain 500 (logged through stigg()'s logger). */
  onError?: ErrorHandler | undefined;
};

const flavor: g.Flavor = { module: 'stigg-gate/hono', arg: 'c', customerExample: "c.get('user')?.stiggCustomerId" };
const kGate = Symbol.for('stigg-gate.hono.gate');
type Gate = g.RequestGate<Context, OnDenied>;
type GatedContext = Context & { [kGate]?: Gate };

/** What settleAround reads of c (../fetch-host): Workers' waitUntil and signal, @hono/node-server's response. */
const side: FetchSide<Context> = {
  runtime: waitUntilOf,
  delivery: (c) => (c as GatedContext)[kGate] as Gate,
  gone: (c) => c.req.raw.signal.aborted,
  started: responseStarted,
};

const host: Host<Context, OnDenied, Context, Next, undefined, unknown> = {
  gate: (c) => (c as GatedContext)[kGate],
  missing: throwsMissing(flavor),
  // Only where usage is at stake: on @hono/node-server, reading the signal creates an AbortController.
  gone: (c, _next, metered) => c.finalized || (metered && (c.req.raw.signal.aborted || connectionGone(c))),
  left: goneResponse,
  record(c, _next, decision) {
    c.set('entitlement', decision);
    let all = c.get('entitlements');
    if (all === undefined) c.set('entitlements', (all = {}));
    all[decision.featureId] = decision; // a keyed store: a computed key in a literal is a runtime call in V8
  },
  proceed: (c, next, _none, settlement) => (settlement === undefined ? next() : settleAround(side, c, next, settlement)),
  send(c, _next, problem, retryAfterSeconds) {
    // Through the context: headers set before (RateLimit fields, an earlier middleware's CORS) stay on the answer.
    const response = problemResponse(problem, retryAfterSeconds);
    return c.newResponse(response.body, response);
  },
  deny: (onDenied, decision, c, _next, _none, problem) => onDenied(decision, c, problem),
  fail: rethrow,
  header: (c, _next, name, value) => c.header(name, value),
};

/** Sets up the per-request gate that requireFeature() (and decorated methods, on Node) use. Does no work by itself. */
export function stigg(options: StiggOptions): MiddlewareHandler {
  const config = g.resolveStiggOptions<Context, OnDenied>(flavor, options);
  // Resolving to nothing: handing next()'s value (the Context) back up measured 1.3-2.4x slower on @hono/node-server.
  return async function stiggMiddleware(c, next) {
    const gate = new g.RequestGate<Context, OnDenied>(config, c, c.req.method);
    (c as GatedContext)[kGate] = gate;
    await enterRequest(gate, next);
  };
}

/**
 * Gates a route on `featureId`, reserving `requestedUsage` (a number, or a function of c) by the rule of
 * docs/usage.md; `c.var.entitlement` holds the decision (and settle(units), also from inside a stream).
 * Answers 402/403/401/400/503 problem+json (docs/options.md); without stigg() in front, a TypeError.
 */
export function requireFeature(featureId: string, usage?: g.RequestedUsage<Context>, options?: RequireFeatureOptions): MiddlewareHandler {
  const run = gatedMiddleware(host, g.resolveRouteOptions<Context, OnDenied>(flavor, featureId, usage, options));
  return async function requireFeatureMiddleware(c, next) {
    const result = run(c, next, undefined);
    const value = isThenable(result) ? await result : result;
    return value instanceof Response ? value : undefined;
  };
}

/** For `app.onError(...)`: renders the entitlement errors decorated methods throw as problem+json; every other error goes to `options.onError`. */
export function entitlementErrorHandler(options?: EntitlementErrorHandlerOptions): ErrorHandler {
  const { statusMapping: mapping } = g.resolveErrorHandlerOptions(flavor, options, 'app.onError(entitlementErrorHandler())', [
    'statusMapping',
    'onError',
  ]);
  const onError = options?.onError;
  if (onError !== undefined && typeof onError !== 'function') {
    throw new TypeError('onError of entitlementErrorHandler() must be a Hono error handler: (err, c) => Response.');
  }
  return function stiggEntitlementErrorHandler(error, c) {
    const gate = (c as GatedContext)[kGate];
    const rendered = g.renderThrown(error, mapping, gate?.config);
    if (rendered !== undefined) return problemResponse(rendered.problem, rendered.retryAfterSeconds);
    if (onError !== undefined) return onError(error, c);
    const withResponse = error as { getResponse?: () => Response };
    if (typeof withResponse.getResponse === 'function') return withResponse.getResponse();
    gate?.config.logger.error({ error }, 'stigg-gate: unhandled error in a Hono route');
    return c.text('Internal Server Error', 500);
  };
}
