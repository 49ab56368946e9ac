import { isThenable } from '../util/maybe-promise';
import type { Decision, MaybePromise, RequestContext, StatusMapping } from '../core';
import { isRequestContextEnabled, requestContextStorage } from '../core/internal';
import { releaseQuietly, toThrowable, type Outcome, type RequestGate, type RouteConfig } from './gate';
import { missingStiggError, type Flavor, type StiggConfig } from './options';
import type { ProblemDetails } from './problem';
import { rateLimitFields } from './rate-limit-headers';
import { settleable, type Settlement } from './settle';
import { renderThrown } from './warnings';

/*
 * The request pipeline, once for every adapter: requireFeature() = a host (what the framework calls a
 * response, a continuation, a failure) + runGate(). The host is one static object per adapter, and the
 * framework's own arguments are passed through as they came (a, b, c: Express's req/res/next, Koa's
 * ctx/next, Fastify's request/reply/done, Hono's c/next): nothing is allocated per request.
 *
 *   1. The client is gone before the decision: the request's earlier grants go back (abandon), the
 *      handler never runs.
 *   2. gate.evaluate(route) (./gate): resolvers, then the decision. A resolver's own error is the app's
 *      (host.fail), never an answer of ours.
 *   3. By outcome:
 *      - granted: the client left while the decision was on its way: release, abandon, stop. A metered
 *        grant gets its Settlement (./settle, the one settlement rule) and the handler sees the decision
 *        with settle(units); a later gate of the same request for the same feature and resource was
 *        granted by the first one's reservation (RequestGate.acquire) and settles nothing of its own.
 *        host.proceed runs the handler and reports how it ended to the settlement.
 *      - denied: release, abandon, then onDenied or the problem.
 *      - problem: the problem (+ Retry-After).
 */

/** What an adapter tells the pipeline about its framework. `A`, `B`, `C` are the middleware's own arguments. */
export interface Host<Req, Deny, A, B, C, R> {
  /** The request's gate (set up by stigg()), or undefined when stigg() did not run. */
  gate(a: A, b: B): RequestGate<Req, Deny> | undefined;
  /** Fails a request stigg() did not set up, with a TypeError naming the fix (fail closed). */
  missing(a: A, b: B, c: C, featureId: string): R;
  /** The response can no longer carry an answer (client gone, already answered); `metered`: usage is at stake. */
  gone(a: A, b: B, metered: boolean): boolean;
  /** What the middleware returns when it stops because the client is gone. */
  left(a: A, b: B, c: C): R;
  /** Makes the decision readable by the handler (res.locals, ctx.state, request, c.var). */
  record(a: A, b: B, decision: Decision): void;
  /** Runs the handler; tells `settlement` (when there is one to settle) how it ended. */
  proceed(a: A, b: B, c: C, settlement: Settlement<Req> | undefined): R;
  /** Answers `problem` (also entitlementErrorHandler's answer, through answerThrown). */
  send(a: A, b: B, problem: ProblemDetails, retryAfterSeconds: number | undefined): R;
  deny(onDenied: Deny, decision: Decision, a: A, b: B, c: C, problem: ProblemDetails): R;
  /** An error of the app's resolvers (or its onDenied): to the framework's error handling. */
  fail(a: A, b: B, c: C, error: unknown, gate: RequestGate<Req, Deny>): R;
  /** Sets a response header (rateLimitHeaders). */
  header(a: A, b: B, name: string, value: string): void;
}

/** Host.fail of frameworks whose middleware rejects to the app's error handling (Koa, Hono, Next). */
export function rethrow(_a: unknown, _b: unknown, _c: unknown, error: unknown): never {
  throw error;
}

/** Host.missing of those frameworks: the TypeError naming the fix, thrown. One function per adapter, made at load. */
export function throwsMissing(flavor: Flavor): (a: unknown, b: unknown, c: unknown, featureId: string) => never {
  return function missing(_a, _b, _c, featureId) {
    throw missingStiggError(flavor, featureId);
  };
}

/** stigg()'s last step: the rest of the request runs in `gate`'s request context, where decorated methods find it (once enabled). */
export function enterRequest<T>(gate: RequestContext, next: () => T): T {
  return isRequestContextEnabled() ? requestContextStorage.run(gate, next) : next();
}

/**
 * entitlementErrorHandler()'s answer: `error`, when it is one of stigg-gate's (a decorated method's
 * denial, ./warnings), answered through host.send unless the response `started`. Whether it was.
 */
export function answerThrown<Req, Deny, A, B, C, R>(
  host: Host<Req, Deny, A, B, C, R>,
  a: A,
  b: B,
  started: boolean,
  error: unknown,
  mapping: StatusMapping | undefined,
  config: StiggConfig<Req, Deny> | undefined,
): boolean {
  const rendered = started ? undefined : renderThrown(error, mapping, config);
  if (rendered === undefined) return false;
  host.send(a, b, rendered.problem, rendered.retryAfterSeconds);
  return true;
}

/** requireFeature()'s middleware: finds the request's gate and runs it. */
export function gatedMiddleware<Req, Deny, A, B, C, R>(
  host: Host<Req, Deny, A, B, C, R>,
  route: RouteConfig<Req, Deny>,
): (a: A, b: B, c: C) => R | Promise<R> {
  return function requireFeatureMiddleware(a, b, c) {
    const gate = host.gate(a, b);
    return gate === undefined ? host.missing(a, b, c, route.featureId) : runGate(host, gate, route, a, b, c);
  };
}

/** Decides `route` for one request and answers, or lets the handler run. */
export function runGate<Req, Deny, A, B, C, R>(
  host: Host<Req, Deny, A, B, C, R>,
  gate: RequestGate<Req, Deny>,
  route: RouteConfig<Req, Deny>,
  a: A,
  b: B,
  c: C,
): R | Promise<R> {
  if (host.gone(a, b, route.requestedUsage !== undefined)) {
    gate.abandon();
    return host.left(a, b, c);
  }
  let outcome: MaybePromise<Outcome>;
  try {
    outcome = gate.evaluate(route);
  } catch (error) {
    return host.fail(a, b, c, toThrowable(error), gate);
  }
  if (!isThenable(outcome)) return apply(host, gate, route, outcome, a, b, c);
  return outcome.then(
    function applyOutcome(value) {
      try {
        return apply(host, gate, route, value, a, b, c);
      } catch (error) {
        // Only reachable before the handler ran: apply hands over to it last.
        return host.fail(a, b, c, toThrowable(error), gate);
      }
    },
    function failed(error: unknown) {
      return host.fail(a, b, c, toThrowable(error), gate);
    },
  );
}

function apply<Req, Deny, A, B, C, R>(
  host: Host<Req, Deny, A, B, C, R>,
  gate: RequestGate<Req, Deny>,
  route: RouteConfig<Req, Deny>,
  outcome: Outcome,
  a: A,
  b: B,
  c: C,
): R {
  if (outcome.kind === 'granted') {
    const { lease, again } = outcome;
    if (again !== undefined) {
      host.record(a, b, again);
      return host.proceed(a, b, c, undefined);
    }
    if (host.gone(a, b, lease.decision.metered)) {
      releaseQuietly(lease, gate.config.logger);
      gate.abandon();
      return host.left(a, b, c);
    }
    if (!lease.decision.metered) {
      host.record(a, b, lease.decision);
      return host.proceed(a, b, c, undefined);
    }
    if (route.rateLimitHeaders ?? gate.config.rateLimitHeaders) rateLimit(host, lease.decision, a, b);
    const settlement = gate.settlement(route, lease);
    host.record(a, b, settleable(settlement));
    return host.proceed(a, b, c, settlement);
  }
  if (outcome.kind === 'problem') return host.send(a, b, outcome.problem, outcome.retryAfterSeconds);
  releaseQuietly(outcome.lease, gate.config.logger);
  if (route.rateLimitHeaders ?? gate.config.rateLimitHeaders) rateLimit(host, outcome.lease.decision, a, b);
  // The handler will not run: what earlier gates granted goes back, whatever status onDenied answers.
  gate.abandon();
  const onDenied = gate.onDenied(route);
  if (onDenied === undefined) return host.send(a, b, outcome.problem, undefined);
  return host.deny(onDenied, outcome.lease.decision, a, b, c, outcome.problem);
}

/** The RateLimit fields of a metered decision (./rate-limit-headers), when it has a limit. */
function rateLimit<Req, Deny, A, B, C, R>(host: Host<Req, Deny, A, B, C, R>, decision: Decision, a: A, b: B): void {
  const fields = rateLimitFields(decision, Date.now());
  if (fields === undefined) return;
  host.header(a, b, 'RateLimit-Policy', fields.policy);
  host.header(a, b, 'RateLimit', fields.state);
}
