import { EntitlementsClosedError, EntitlementUnavailableError, statusForReason, InvalidIdError, idProblem } from '../core';
import type { RequestContext, Decision, Entitlements, Lease, MaybePromise } from '../core';
import { valuesProblem } from '../core/internal';
import { describeValue as describe } from '../util/describe-value';
import { isThenable } from '../util/maybe-promise';
import { type ReportWhen, type Resolver, type RouteConfig, type StiggConfig } from './options';
import { Settlement, settleable, type NodeResponse } from './settle';
import { warnAboutReason, warnOnce } from './warnings';
import { isUnitCount } from '../util/unit-count';
import {
  closedProblem,
  deniedProblem,
  exposed,
  invalidIdProblem,
  invalidUsageProblem,
  invalidValuesProblem,
  noCustomerProblem,
  unavailableProblem,
  type ProblemDetails,
} from './problem';

/*
 * The framework-free part of requireFeature(): resolution (customer, usage, resource) -> decision.
 * What an adapter does with the outcome is written once, in ./pipeline (runGate and its Host).
 */

// The adapter surface in one import: everything an adapter needs from ./options, ./settle and ./warnings.
export { renderThrown, warnAboutReason, warnOnce } from './warnings';
export {
  checkOnAbort,
  checkStatusMapping,
  looksLikeRequest,
  missingStiggError,
  resolveErrorHandlerOptions,
  resolveRouteOptions,
  resolveStiggOptions,
  type ErrorHandlerConfig,
  type AbortProgress,
  type Flavor,
  type OnAbort,
  type ReportWhen,
  type RequestedUsage,
  type RequireFeatureOptionsFor,
  type Resolver,
  type RouteConfig,
  type StiggConfig,
  type StiggOptionsFor,
  type UsageResolver,
} from './options';
export { Settlement, isResponseGone, releaseQuietly, settleable, type NodeResponse, type SettlementRules } from './settle';

export type Outcome =
  | {
      readonly kind: 'granted';
      readonly lease: Lease;
      /** A later gate of the request for a feature an earlier one reserved: that grant's decision, nothing reserved again. */
      readonly again?: Decision;
    }
  | { readonly kind: 'denied'; readonly lease: Lease; readonly problem: ProblemDetails }
  | { readonly kind: 'problem'; readonly problem: ProblemDetails; readonly retryAfterSeconds?: number };

/** Where a granted request's decisions go: Express's res.locals, Koa's ctx.state, Hono's c.var. */
export interface DecisionBag {
  /** The decision of the last requireFeature that granted this request. */
  entitlement?: Decision;
  /** Every granted requireFeature decision on this request, by feature id. */
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
  return typeof value === 'object' && value !== null
    ? value
    : new Error(`A stigg-gate resolver failed with ${String(value)}`, { cause: value });
}

/** A resolver's answer: an id, none (undefined), or what is wrong with it (core's idProblem). */
type Resolved = { readonly id: string | undefined; readonly fault?: undefined } | { readonly id?: undefined; readonly fault: string };

const NONE: Resolved = Object.freeze({ id: undefined });

function checkResolved(kind: 'customer' | 'resource', value: string | undefined | null): Resolved {
  if (value === undefined || value === null || value === '') return NONE;
  if (typeof value !== 'string') {
    throw new TypeError(
      `The ${kind} resolver passed to stigg-gate returned ${describe(value)}; it must return a string id, or undefined when there is none.`,
    );
  }
  const fault = idProblem(value);
  return fault === undefined ? { id: value } : { fault };
}

function idOrThrow(kind: 'customer' | 'resource', resolved: Resolved): string | undefined {
  if (resolved.fault !== undefined) throw exposed(new InvalidIdError(kind === 'customer' ? 'customerId' : 'resourceId', resolved.fault));
  return resolved.id;
}

/** Whether `value` is usage a request may ask for. */
function isUsage(value: unknown): value is number {
  return isUnitCount(value);
}

/**
 * What a usage function throws when the request lacks what it reads (`req.body.count` without a body):
 * the client's mistake, answered 400. Any other error is the app's and goes to its error handler.
 */
function isInputError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError;
}

/**
 * One per request, created by stigg(). It is also the AsyncLocalStorage store that decorated service
 * methods read, so it implements RequestContext. Resolvers run lazily and at most once.
 * `method` is the request's HTTP method (HEAD is metered like the GET whose handler it runs).
 */
export class RequestGate<Req, Deny> implements RequestContext {
  readonly entitlements: Entitlements;
  private customer: MaybePromise<Resolved> | null = null;
  private resource: MaybePromise<Resolved> | null = null;
  /** What this request's gates granted and must settle. */
  private settlements: Settlement<Req>[] | undefined;

  constructor(
    readonly config: StiggConfig<Req, Deny>,
    readonly req: Req,
    readonly method?: string,
    /** The second argument the resolvers get (Express's res, Fastify's reply). */
    private readonly res?: unknown,
  ) {
    this.entitlements = config.entitlements;
  }

  /** For decorated methods: a bad id throws InvalidIdError (401/400). */
  customerId(): MaybePromise<string | undefined> {
    const resolved = this.resolvedCustomer();
    return isThenable(resolved) ? resolved.then((value) => idOrThrow('customer', value)) : idOrThrow('customer', resolved);
  }

  resourceId(): MaybePromise<string | undefined> {
    const resolved = this.resolvedResource();
    return isThenable(resolved) ? resolved.then((value) => idOrThrow('resource', value)) : idOrThrow('resource', resolved);
  }

  private resolvedCustomer(): MaybePromise<Resolved> {
    this.customer ??= this.resolve('customer', this.config.customer);
    return this.customer;
  }

  private resolvedResource(): MaybePromise<Resolved> {
    if (this.config.resource === undefined) return NONE;
    this.resource ??= this.resolve('resource', this.config.resource);
    return this.resource;
  }

  private resolve(kind: 'customer' | 'resource', resolver: Resolver<Req>): MaybePromise<Resolved> {
    const value = resolver(this.req, this.res as never);
    return isThenable(value) ? value.then((id) => checkResolved(kind, id)) : checkResolved(kind, value);
  }

  /** Resolve customer, usage and resource, then acquire. May throw or reject with the app's errors. */
  evaluate(route: RouteConfig<Req, Deny>): MaybePromise<Outcome> {
    const customer = this.resolvedCustomer();
    if (isThenable(customer)) return customer.then((value) => this.withCustomer(route, value));
    return this.withCustomer(route, customer);
  }

  private withCustomer(route: RouteConfig<Req, Deny>, customer: Resolved): MaybePromise<Outcome> {
    if (customer.fault !== undefined) return { kind: 'problem', problem: invalidIdProblem('customer', customer.fault, route.featureId) };
    const customerId = customer.id;
    if (customerId === undefined) return { kind: 'problem', problem: noCustomerProblem(route.featureId) };
    if (typeof route.requestedUsage !== 'function') return this.withUsage(route, customerId, route.requestedUsage);
    let usage: MaybePromise<number>;
    try {
      usage = route.requestedUsage(this.req, this.res as never);
    } catch (error) {
      return this.usageFailed(route, error);
    }
    if (isThenable(usage)) {
      return usage.then(
        (value) => this.withRequestUsage(route, customerId, value),
        (error: unknown) => this.usageFailed(route, error),
      );
    }
    return this.withRequestUsage(route, customerId, usage);
  }

  private usageFailed(route: RouteConfig<Req, Deny>, error: unknown): Outcome {
    if (!isInputError(error)) throw error;
    warnOnce(
      this.config,
      `${route.featureId}\0usage`,
      { featureId: route.featureId, error },
      `stigg-gate: the requestedUsage function of requireFeature('${route.featureId}') threw; the request was answered 400. Read optional input defensively, e.g. (req) => Number(req.body?.count ?? 1). Logged once per feature.`,
    );
    return { kind: 'problem', problem: invalidUsageProblem(route.featureId, undefined) };
  }

  /** Usage taken from the request must be a unit count (../util/unit-count): anything else is the client's mistake (400). */
  private withRequestUsage(route: RouteConfig<Req, Deny>, customerId: string, requestedUsage: unknown): MaybePromise<Outcome> {
    if (!isUsage(requestedUsage)) return { kind: 'problem', problem: invalidUsageProblem(route.featureId, requestedUsage) };
    return this.withUsage(route, customerId, requestedUsage);
  }

  private withUsage(route: RouteConfig<Req, Deny>, customerId: string, requestedUsage: number | undefined): MaybePromise<Outcome> {
    const resource = route.resource === undefined ? this.resolvedResource() : this.resolve('resource', route.resource);
    if (isThenable(resource)) return resource.then((value) => this.withResource(route, customerId, requestedUsage, value));
    return this.withResource(route, customerId, requestedUsage, resource);
  }

  private withResource(
    route: RouteConfig<Req, Deny>,
    customerId: string,
    requestedUsage: number | undefined,
    resource: Resolved,
  ): MaybePromise<Outcome> {
    if (resource.fault !== undefined) return { kind: 'problem', problem: invalidIdProblem('resource', resource.fault, route.featureId) };
    const values = route.requestedValues;
    if (typeof values !== 'function') return this.acquire(route, customerId, requestedUsage, resource.id, values);
    let asked: MaybePromise<readonly string[]>;
    try {
      asked = values(this.req, this.res as never);
    } catch (error) {
      return this.valuesFailed(route, error);
    }
    if (isThenable(asked)) {
      return asked.then(
        (value) => this.withValues(route, customerId, requestedUsage, resource.id, value),
        (error: unknown) => this.valuesFailed(route, error),
      );
    }
    return this.withValues(route, customerId, requestedUsage, resource.id, asked);
  }

  /** ENUM values taken from the request must be a short list of ids: anything else is the client's mistake (400). */
  private withValues(
    route: RouteConfig<Req, Deny>,
    customerId: string,
    requestedUsage: number | undefined,
    resourceId: string | undefined,
    values: unknown,
  ): MaybePromise<Outcome> {
    const problem = valuesProblem(values);
    if (problem !== undefined) return { kind: 'problem', problem: invalidValuesProblem(route.featureId, problem) };
    return this.acquire(route, customerId, requestedUsage, resourceId, values as readonly string[]);
  }

  private valuesFailed(route: RouteConfig<Req, Deny>, error: unknown): Outcome {
    if (!isInputError(error)) throw error;
    warnOnce(
      this.config,
      `${route.featureId}\0values`,
      { featureId: route.featureId, error },
      `stigg-gate: the requestedValues function of requireFeature('${route.featureId}') threw; the request was answered 400. Logged once per feature.`,
    );
    return { kind: 'problem', problem: invalidValuesProblem(route.featureId, 'could not be read from the request') };
  }

  private acquire(
    route: RouteConfig<Req, Deny>,
    customerId: string,
    requestedUsage: number | undefined,
    resourceId: string | undefined,
    requestedValues: readonly string[] | undefined,
  ): MaybePromise<Outcome> {
    const earlier = this.grantedBefore(customerId, route.featureId, resourceId);
    if (earlier !== undefined) return { kind: 'granted', lease: earlier.lease, again: settleable(earlier) };
    let lease: MaybePromise<Lease>;
    try {
      const input = { customerId, featureId: route.featureId, resourceId, requestedUsage, requestedValues, mode: route.mode };
      // HEAD too: every framework answers it by running the GET handler, so its work is metered like the GET's.
      lease = this.entitlements.acquire(input);
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

  /**
   * Two gates for one feature on one request (a router-level and a route-level requireFeature) reserve
   * once: the later one is let through on the earlier one's metered grant (docs/options.md).
   */
  private grantedBefore(customerId: string, featureId: string, resourceId: string | undefined): Settlement<Req> | undefined {
    if (this.settlements === undefined) return undefined;
    for (const settlement of this.settlements) {
      const decision = settlement.lease.decision;
      if (decision.featureId === featureId && decision.customerId === customerId && decision.resourceId === resourceId) return settlement;
    }
    return undefined;
  }

  private unavailable(error: unknown): Outcome {
    if (error instanceof EntitlementsClosedError) {
      const { retryAfterSeconds } = error;
      return { kind: 'problem', problem: closedProblem(error.featureId, retryAfterSeconds), retryAfterSeconds };
    }
    if (!(error instanceof EntitlementUnavailableError)) throw error;
    return {
      kind: 'problem',
      problem: unavailableProblem(error.featureId, error.retryAfterSeconds),
      retryAfterSeconds: error.retryAfterSeconds,
    };
  }

  private decide(route: RouteConfig<Req, Deny>, lease: Lease): Outcome {
    const decision = lease.decision;
    if (decision.granted) {
      // Shadow mode served a would-be denial: a misconfiguration is worth the same warning.
      if (typeof decision.wouldDenyReason === 'string') warnAboutReason(this.config, decision.featureId, decision.wouldDenyReason);
      return { kind: 'granted', lease };
    }
    const reason = decision.accessDeniedReason ?? 'Unknown';
    warnAboutReason(this.config, decision.featureId, reason);
    const status = route.statusMapping?.[reason] ?? this.config.statusMapping?.[reason] ?? statusForReason(reason);
    return { kind: 'denied', lease, problem: deniedProblem(decision, status) };
  }

  reportWhen(route: RouteConfig<Req, Deny>): ReportWhen {
    return route.reportWhen ?? this.config.reportWhen;
  }

  /** How a granted lease of `route` settles (./settle): the route's reportWhen and onAbort over stigg()'s. */
  settlement(route: RouteConfig<Req, Deny>, lease: Lease): Settlement<Req> {
    const { config } = this;
    const rules =
      route.reportWhen === undefined && route.onAbort === undefined
        ? config
        : { reportWhen: route.reportWhen ?? config.reportWhen, onAbort: route.onAbort ?? config.onAbort, logger: config.logger };
    const settlement = new Settlement(lease, rules, this.req);
    (this.settlements ??= []).push(settlement);
    return settlement;
  }

  /**
   * The client left before a later gate of the same request decided: the handler will never run, so
   * what earlier gates granted goes back (their response never gets a handler's answer). Given the
   * Node response `res` a failed handler had written to itself, what it sent decides (Settlement.failed).
   */
  abandon(res?: NodeResponse): void {
    for (const settlement of this.settlements ?? []) settlement.failed(res);
  }

  onDenied(route: RouteConfig<Req, Deny>): Deny | undefined {
    return route.onDenied ?? this.config.onDenied;
  }
}
