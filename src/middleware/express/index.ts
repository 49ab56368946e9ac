import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { StatusMapping, Decision } from '../../core';
import * as g from '../gate';
import { refuseUncalledMount } from '../uncalled';
import { failOnRejection, sendProblem, watchAndContinue } from '../node-host';
import { answerThrown, enterRequest, gatedMiddleware, type Host } from '../pipeline';
import type { ProblemDetails } from '../problem';

export * from '../adapter-exports';
export { stiggWebhook } from './webhook';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** Decisions live in res.locals, Express's per-request bag: a property added to req costs ~2 µs (measured). */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Locals extends g.DecisionBag {}
  }
}

/** Renders a denial yourself instead of the default problem+json response. It must end the response. */
export type OnDenied = (decision: Decision, req: Request, res: Response, problem: ProblemDetails) => void | Promise<void>;
/** Resolvers get `(req, res)`: `customer: (req, res) => res.locals.user?.stiggCustomerId`. */
export type StiggOptions = g.StiggOptionsFor<Request, OnDenied, Response>;
export type RequireFeatureOptions = g.RequireFeatureOptionsFor<Request, OnDenied, Response>;
export type EntitlementErrorHandlerOptions = { statusMapping?: StatusMapping | undefined };

const flavor: g.Flavor = { module: 'stigg-gate/express', arg: 'req' };
const kGate = Symbol.for('stigg-gate.express.gate');
type GateHolder = { [kGate]?: g.RequestGate<Request, OnDenied> };

/** The gate lives in res.locals (~20 ns; a property on req ~2 µs), symbol-keyed: no template variable clashes. */
const holder = (req: Request, res: Response): GateHolder => (res.locals as GateHolder | undefined) ?? (req as GateHolder);

const host: Host<Request, OnDenied, Request, Response, NextFunction, void> = {
  gate: (req, res) => holder(req, res)[kGate],
  missing: (_req, _res, next, featureId) => next(g.missingStiggError(flavor, featureId)),
  gone: (_req, res) => g.isResponseGone(res),
  left: () => undefined,
  record: (_req, res, decision) => g.recordDecision(res.locals, decision),
  proceed: (_req, res, next, settlement) => watchAndContinue(res, next, settlement),
  send: (_req, res, problem, retryAfterSeconds) => sendProblem(res, problem, retryAfterSeconds),
  deny: (onDenied, decision, req, res, next, problem) => failOnRejection(onDenied(decision, req, res, problem), next),
  fail: (_req, _res, next, error) => next(error),
  header: (_req, res, name, value) => void res.setHeader(name, value),
};

/** Sets up the per-request context that requireFeature() and decorated methods use. Does no work by itself. */
export function stigg(options: StiggOptions): RequestHandler {
  const config = g.resolveStiggOptions<Request, OnDenied>(flavor, options);
  return function stiggMiddleware(req, res, next) {
    const gate = new g.RequestGate(config, req, req.method, res);
    holder(req, res)[kGate] = gate;
    enterRequest(gate, next);
  };
}

/**
 * Gates a route on `featureId`, reserving `requestedUsage` (a number, or a function of (req, res)) by the
 * rule of docs/usage.md; `res.locals.entitlement` holds the decision (and settle(units)). Answers
 * 402/403/401/400/503 problem+json (docs/options.md); without stigg() in front, next(TypeError).
 */
export function requireFeature(
  featureId: string,
  usage?: g.RequestedUsage<Request, Response>,
  options?: RequireFeatureOptions,
): RequestHandler {
  return gatedMiddleware(host, g.resolveRouteOptions<Request, OnDenied>(flavor, featureId, usage, options));
}

/** Renders the entitlement errors decorated methods throw as problem+json; passes every other error on. Mount it after the routes. */
export function entitlementErrorHandler(options?: EntitlementErrorHandlerOptions): ErrorRequestHandler {
  const { statusMapping: mapping } = g.resolveErrorHandlerOptions(flavor, options, 'app.use(entitlementErrorHandler()) after your routes');
  return function entitlementErrorHandlerMiddleware(err: unknown, req, res, next) {
    if (!answerThrown(host, req, res, res.headersSent, err, mapping, holder(req, res)[kGate]?.config)) next(err);
  };
}

// app.use(requireFeature) without the call throws at app.use(), which reads `handle` (src/middleware/uncalled.ts).
for (const factory of [stigg, requireFeature, entitlementErrorHandler]) refuseUncalledMount(factory, 'handle');
