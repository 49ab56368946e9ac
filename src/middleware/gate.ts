import { MISCONFIGURATION_REASONS, EntitlementUnavailableError, statusForReason } from '../core/errors';
import type { RequestContext } from '../core/context';
import { isThenable } from '../core/maybe-promise';
import type { AccessDeniedReason, Decision, Entitlements, Lease, MaybePromise } from '../core/types';
import { describe, type ReportWhen, type Resolver, type RouteConfig, type StiggConfig } from './options';
import { deniedProblem, invalidUsageProblem, noCustomerProblem, unavailableProblem, type ProblemDetails } from './problem';

/*
 * The framework-free part of requireFeature(): resolution (customer, usage, resource) -> decision.
 * An adapter (Express, Koa, Fastify, Hono, Nest) does only this:
 *   1. At construction: resolveStiggOptions / resolveRouteOptions / resolveErrorHandlerOptions (./options)
 *      with its Flavor.
 *   2. Per request, in stigg(): `new RequestGate(config, req)`, stored where requireFeature() finds it
 *      (and run under requestContextStorage when isRequestContextEnabled(), for the decorators).
 *   3. In requireFeature(): `gate.evaluate(route)` -> Outcome (sync or a promise; it may throw or reject
 *      with the app's resolver errors: pass them through toThrowable()). Then, by outcome.kind:
 *      - 'granted': recordDecision(bag, lease.decision); when lease.decision.metered, settle the lease
 *        after the response (./settle: settleOnResponse for a Node response, or settle()); run the handler.
 *      - 'denied': release the lease, then gate.onDenied(route) or render outcome.problem.
 *      - 'problem': render outcome.problem (+ Retry-After when retryAfterSeconds is set).
 *      Rendering is the adapter's: status, `Content-Type: PROBLEM_CONTENT_TYPE`, JSON body (./problem).
 *   4. entitlementErrorHandler(): isEntitlementError(err) -> errorProblem(err, own mapping, gate mapping).
 */

// The adapter surface in one import: everything an adapter needs from ./options and ./settle.
export {
  checkStatusMapping,
  looksLikeRequest,
  missingStiggError,
  resolveErrorHandlerOptions,
  resolveRouteOptions,
  resolveStiggOptions,
  type ErrorHandlerConfig,
  type Flavor,
  type ReportWhen,
  type RequireFeatureOptionsFor,
  type Resolver,
  type RouteConfig,
  type StiggConfig,
  type StiggOptionsFor,
  type UsageResolver,
} from './options';
export { releaseQuietly, settle, settleOnResponse } from './settle';

export type Outcome =
  | { readonly kind: 'granted'; readonly lease: Lease }
  | { readonly kind: 'denied'; readonly lease: Lease; readonly problem: ProblemDetails }
  | { readonly kind: 'problem'; readonly problem: ProblemDetails; readonly retryAfterSeconds?: number };

/** Where a granted request's decisions go: Express's res.locals, Koa's ctx.state. */
export interface DecisionBag {
  entitlement?: Decision;
  entitlements?: Record<string, Decision>;
}

export function recordDecision(bag: DecisionBag, decision: Decision): void {
  bag.entitlement = decision;
  bag.entitlements ??= {};
  bag.entitlements[decision.featureId] = decision;
}

/**
 * Express treats a falsy error (and the strings 'route'/'router') as "no error", and Koa ignores a
 * null rejection: errors from the app's resolvers that are not objects are wrapped.
 */
export function toThrowable(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? value : new Error(`A stigg-gate resolver failed with ${String(value)}`, { cause: value });
}

function normalizeId(kind: 'customer' | 'resource', value: string | undefined | null): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new TypeError(`The ${kind} resolver passed to stigg-gate returned ${describe(value)}; it must return a string id, or undefined when there is none.`);
  }
  return value;
}

/** Whether `value` is usage a request may ask for. */
function isUsage(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/**
 * One per request, created by stigg(). It is also the AsyncLocalStorage store that decorated service
 * methods read, so it implements RequestContext. Resolvers run lazily and at most once.
 */
export class RequestGate<Req, Deny> implements RequestContext {
  readonly entitlements: Entitlements;
  private customer: MaybePromise<string | undefined> | null = null;
  private resource: MaybePromise<string | undefined> | null = null;

  constructor(readonly config: StiggConfig<Req, Deny>, readonly req: Req) {
    this.entitlements = config.entitlements;
  }

  customerId(): MaybePromise<string | undefined> {
    this.customer ??= this.resolve('customer', this.config.customer);
    return this.customer;
  }

  resourceId(): MaybePromise<string | undefined> {
    if (this.config.resource === undefined) return undefined;
    this.resource ??= this.resolve('resource', this.config.resource);
    return this.resource;
  }

  private resolve(kind: 'customer' | 'resource', resolver: Resolver<Req>): MaybePromise<string | undefined> {
    const value = resolver(this.req);
    return isThenable(value) ? value.then((id) => normalizeId(kind, id)) : normalizeId(kind, value);
  }

  /** Resolve customer, usage and resource, then acquire. May throw or reject with the app's errors. */
  evaluate(route: RouteConfig<Req, Deny>): MaybePromise<Outcome> {
    const customerId = this.customerId();
    if (isThenable(customerId)) return customerId.then((id) => this.withCustomer(route, id));
    return this.withCustomer(route, customerId);
  }

  private withCustomer(route: RouteConfig<Req, Deny>, customerId: string | undefined): MaybePromise<Outcome> {
    if (customerId === undefined) return { kind: 'problem', problem: noCustomerProblem(route.featureId) };
    if (typeof route.requestedUsage !== 'function') return this.withUsage(route, customerId, route.requestedUsage);
    const usage = route.requestedUsage(this.req);
    if (isThenable(usage)) return usage.then((value) => this.withRequestUsage(route, customerId, value));
    return this.withRequestUsage(route, customerId, usage);
  }

  /** Usage taken from the request must be a finite number >= 0: anything else is the client's mistake (400). */
  private withRequestUsage(route: RouteConfig<Req, Deny>, customerId: string, requestedUsage: unknown): MaybePromise<Outcome> {
    if (!isUsage(requestedUsage)) return { kind: 'problem', problem: invalidUsageProblem(route.featureId, requestedUsage) };
    return this.withUsage(route, customerId, requestedUsage);
  }

  private withUsage(route: RouteConfig<Req, Deny>, customerId: string, requestedUsage: number | undefined): MaybePromise<Outcome> {
    const resourceId = route.resource === undefined ? this.resourceId() : this.resolve('resource', route.resource);
    if (isThenable(resourceId)) return resourceId.then((id) => this.acquire(route, customerId, requestedUsage, id));
    return this.acquire(route, customerId, requestedUsage, resourceId);
  }

  private acquire(route: RouteConfig<Req, Deny>, customerId: string, requestedUsage: number | undefined, resourceId: string | undefined): MaybePromise<Outcome> {
    let lease: MaybePromise<Lease>;
    try {
      lease = this.entitlements.acquire({ customerId, featureId: route.featureId, resourceId, requestedUsage });
    } catch (error) {
      return this.unavailable(error);
    }
    if (isThenable(lease)) {
      return lease.then(
        (value) => this.decide(route, value),
        (error: unknown) => this.unavailable(error),
      );
    }
    return this.decide(route, lease);
  }

  private unavailable(error: unknown): Outcome {
    if (!(error instanceof EntitlementUnavailableError)) throw error;
    return { kind: 'problem', problem: unavailableProblem(error.featureId, error.retryAfterSeconds), retryAfterSeconds: error.retryAfterSeconds };
  }

  private decide(route: RouteConfig<Req, Deny>, lease: Lease): Outcome {
    const decision = lease.decision;
    if (decision.granted) return { kind: 'granted', lease };
    const reason = decision.accessDeniedReason ?? 'Unknown';
    if (MISCONFIGURATION_REASONS.has(reason)) this.warnOnce(decision, reason);
    const status = route.statusMapping?.[reason] ?? this.config.statusMapping?.[reason] ?? statusForReason(reason);
    return { kind: 'denied', lease, problem: deniedProblem(decision, status) };
  }

  private warnOnce(decision: Decision, reason: AccessDeniedReason): void {
    const key = `${decision.featureId}\0${reason}`;
    if (this.config.warned.has(key)) return;
    this.config.warned.add(key);
    this.config.logger.warn({
      featureId: decision.featureId,
      accessDeniedReason: reason,
    }, `stigg-gate: feature "${decision.featureId}" was denied with ${reason}, which usually means a misconfiguration (check the feature id and its type in Stigg). Logged once per feature and reason.`);
  }

  reportWhen(route: RouteConfig<Req, Deny>): ReportWhen {
    return route.reportWhen ?? this.config.reportWhen;
  }

  onDenied(route: RouteConfig<Req, Deny>): Deny | undefined {
    return route.onDenied ?? this.config.onDenied;
  }
}
