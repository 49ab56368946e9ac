import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
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

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /**
     * Decisions live in res.locals, Express's per-request bag (as Koa's ctx.state): adding a property
     * to an Express request costs ~2 µs each (measured), more than the whole entitlement check.
     */
    interface Locals {
      /** The decision of the last requireFeature that granted this request. */
      entitlement?: Decision;
      /** Every granted requireFeature decision on this request, by feature id. */
      entitlements?: Record<string, Decision>;
    }
  }
}

/** Renders a denial yourself instead of the default problem+json response. It must end the response. */
export type OnDenied = (decision: Decision, req: Request, res: Response, problem: ProblemDetails) => void | Promise<void>;

export type StiggOptions = StiggOptionsFor<Request, OnDenied>;
export type RequireFeatureOptions = RequireFeatureOptionsFor<Request, OnDenied>;

export interface EntitlementErrorHandlerOptions {
  statusMapping?: StatusMapping;
}

const flavor: Flavor = { module: 'stigg-gate/express', arg: 'req' };
const kGate = Symbol.for('stigg-gate.express.gate');

type Gate = RequestGate<Request, OnDenied>;
type Route = RouteConfig<Request, OnDenied>;
type GateHolder = { [kGate]?: Gate };

/**
 * The gate lives in res.locals (a null-prototype object Express creates per request), not on req:
 * adding a property to an Express request, whose prototype Express swaps in, costs ~2 µs — more than
 * the whole entitlement check — while a res.locals entry costs ~20 ns. Symbol-keyed, so no template
 * variable name can clash with it.
 */
function holder(req: Request, res: Response): GateHolder {
  return (res.locals as GateHolder | undefined) ?? (req as GateHolder);
}

/** Sets up the per-request context that requireFeature() and decorated methods use. Does no work by itself. */
export function stigg(options: StiggOptions): RequestHandler {
  const config = resolveStiggOptions<Request, OnDenied>(flavor, options);
  return function stiggMiddleware(req, res, next) {
    const gate = new RequestGate(config, req, req.method);
    holder(req, res)[kGate] = gate;
    if (isRequestContextEnabled()) {
      requestContextStorage.run(gate, next);
      return;
    }
    next();
  };
}

function send(res: Response, problem: ProblemDetails, retryAfterSeconds?: number): void {
  const body = JSON.stringify(problem);
  res.statusCode = problem.status;
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', retryAfterHeader(retryAfterSeconds));
  res.end(body);
}

function apply(gate: Gate, route: Route, outcome: Outcome, req: Request, res: Response, next: NextFunction): void {
  if (outcome.kind === 'granted') {
    const lease = outcome.lease;
    if (isResponseGone(res)) {
      releaseQuietly(lease, gate.config.logger);
      gate.abandon();
      return;
    }
    if (lease.decision.metered) {
      const settlement = gate.settlement(route, lease);
      recordDecision(res.locals, settleable(settlement));
      settlement.watch(res);
    } else recordDecision(res.locals, lease.decision);
    next();
    return;
  }
  if (outcome.kind === 'problem') {
    send(res, outcome.problem, outcome.retryAfterSeconds);
    return;
  }
  releaseQuietly(outcome.lease, gate.config.logger);
  // The handler will not run: what earlier gates granted goes back, whatever status onDenied answers.
  gate.abandon();
  const onDenied = gate.onDenied(route);
  if (onDenied === undefined) {
    send(res, outcome.problem);
    return;
  }
  const rendered = onDenied(outcome.lease.decision, req, res, outcome.problem);
  if (isThenable(rendered)) rendered.then(undefined, (error: unknown) => next(toThrowable(error)));
}

/**
 * Gates a route on `featureId`. `requestedUsage` (a number, or a function of the request) is reserved
 * now and reported when the handler ends its response with a status < 400, whether or not the client
 * read it; released when it answers >= 400 or fails. A response cut off mid-stream follows `onAbort`;
 * `res.locals.entitlement.settle(units)` reports the units actually used instead.
 * Responses: denials 402/403 (statusForReason, overridable), no customer 401, bad usage from the
 * request 400, no decision under fail-closed 503 + Retry-After, all application/problem+json. A
 * route without stigg() in front calls next() with a TypeError that names the fix (fail closed).
 */
export function requireFeature(
  featureId: string,
  requestedUsage?: number | ((req: Request) => MaybePromise<number>),
  options?: RequireFeatureOptions,
): RequestHandler {
  const route = resolveRouteOptions<Request, OnDenied>(flavor, featureId, requestedUsage, options);
  return function requireFeatureMiddleware(req, res, next) {
    const gate = holder(req, res)[kGate];
    if (gate === undefined) {
      next(missingStiggError(flavor, route.featureId));
      return;
    }
    if (isResponseGone(res)) {
      gate.abandon();
      return;
    }
    let outcome: MaybePromise<Outcome>;
    try {
      outcome = gate.evaluate(route);
    } catch (error) {
      next(toThrowable(error));
      return;
    }
    if (!isThenable(outcome)) {
      apply(gate, route, outcome, req, res, next);
      return;
    }
    outcome.then(
      function applyOutcome(value) {
        try {
          apply(gate, route, value, req, res, next);
        } catch (error) {
          // Only reachable before next() ran: apply calls next() last, and Express catches what handlers throw.
          next(toThrowable(error));
        }
      },
      function failed(error: unknown) {
        next(toThrowable(error));
      },
    );
  };
}

/**
 * Renders EntitlementDeniedError / EntitlementUnavailableError (thrown by decorated methods) as
 * problem+json; passes every other error on. Mount it after the routes.
 */
export function entitlementErrorHandler(options?: EntitlementErrorHandlerOptions): ErrorRequestHandler {
  const { statusMapping: mapping } = resolveErrorHandlerOptions(flavor, options, 'after your routes');
  return function entitlementErrorHandlerMiddleware(err: unknown, req, res, next) {
    const rendered = res.headersSent ? undefined : renderThrown(err, mapping, holder(req, res)[kGate]?.config);
    if (rendered === undefined) {
      next(err);
      return;
    }
    send(res, rendered.problem, rendered.retryAfterSeconds);
  };
}

export { EntitlementDeniedError, EntitlementUnavailableError };
export { InvalidIdError } from '../../core/input';
export { stiggWebhook } from './webhook';
