import type { ServerResponse } from 'node:http';
import { MISCONFIGURATION_REASONS, EntitlementUnavailableError, statusForReason, type StatusMapping } from '../core/errors';
import type { RequestContext } from '../core/context';
import { isThenable, silentLogger } from '../core/maybe-promise';
import type { AccessDeniedReason, Decision, Entitlements, Lease, Logger, MaybePromise } from '../core/types';
import { ACCESS_DENIED_REASONS, deniedProblem, invalidUsageProblem, noCustomerProblem, unavailableProblem, type ProblemDetails } from './problem';

/*
 * The framework-free part of requireFeature: option validation, the per-request context, and the
 * decision for one gated route. The Express and Koa adapters only move values in and out of it.
 */

export type Resolver<Req> = (req: Req) => MaybePromise<string | undefined | null>;
export type UsageResolver<Req> = (req: Req) => MaybePromise<number>;
export type ReportWhen = (statusCode: number) => boolean;

/** How the adapter names its request argument in messages. */
/** stigg() options; `Req` is Express's Request or Koa's Context, `Deny` the adapter's onDenied. */
export interface StiggOptionsFor<Req, Deny> {
  /** The instance returned by createEntitlements(). */
  entitlements: Entitlements;
  /** The Stigg customer id of the request's authenticated user; undefined answers 401. Runs lazily, at most once per request. */
  customer: Resolver<Req>;
  /** The Stigg resource id the request acts on, for resource-scoped entitlements. */
  resource?: Resolver<Req>;
  /** Status per AccessDeniedReason, over the default (402 when an upgrade helps, else 403). */
  statusMapping?: StatusMapping;
  /** Renders a denial yourself instead of the default problem+json response. */
  onDenied?: Deny;
  /** Whether a response with this status reports the requested usage. Default: status < 400. */
  reportWhen?: ReportWhen;
  /** Receives misconfiguration warnings and settle errors. Default: silent. */
  logger?: Logger;
}

/** requireFeature() options, each overriding stigg()'s for one route. */
export interface RequireFeatureOptionsFor<Req, Deny> {
  /** Overrides stigg()'s resource resolver for this route. */
  resource?: Resolver<Req>;
  statusMapping?: StatusMapping;
  onDenied?: Deny;
  reportWhen?: ReportWhen;
}

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

export interface Flavor {
  readonly module: 'stigg-gate/express' | 'stigg-gate/koa';
  readonly arg: 'req' | 'ctx';
}

export interface StiggConfig<Req, Deny> {
  readonly entitlements: Entitlements;
  readonly customer: Resolver<Req>;
  readonly resource: Resolver<Req> | undefined;
  readonly statusMapping: StatusMapping | undefined;
  readonly onDenied: Deny | undefined;
  readonly reportWhen: ReportWhen;
  readonly logger: Logger;
  /** `${featureId}\0${reason}` already warned about. */
  readonly warned: Set<string>;
}

export interface RouteConfig<Req, Deny> {
  readonly featureId: string;
  /** A validated constant, or a function of the request whose result is checked per request. */
  readonly requestedUsage: number | UsageResolver<Req> | undefined;
  readonly resource: Resolver<Req> | undefined;
  readonly statusMapping: StatusMapping | undefined;
  readonly onDenied: Deny | undefined;
  readonly reportWhen: ReportWhen | undefined;
}

export type Outcome =
  | { readonly kind: 'granted'; readonly lease: Lease }
  | { readonly kind: 'denied'; readonly lease: Lease; readonly problem: ProblemDetails }
  | { readonly kind: 'problem'; readonly problem: ProblemDetails; readonly retryAfterSeconds?: number };



function reportWhenSuccessful(statusCode: number): boolean {
  return statusCode < 400;
}


/**
 * Express treats a falsy error (and the strings 'route'/'router') as "no error", and Koa ignores a
 * null rejection: errors from the app's resolvers that are not objects are wrapped.
 */
export function toThrowable(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? value : new Error(`A stigg-gate resolver failed with ${String(value)}`, { cause: value });
}

/** True for what Express (req) or Koa (ctx) hand to a middleware: an object carrying a request. */
export function looksLikeRequest(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return 'headers' in value || 'req' in value || 'request' in value || 'method' in value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return `a value of type ${typeof value}`;
}

function checkFunction(fn: string, name: string, value: unknown, hint: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${describe(value)} is not a valid value for ${name} in ${fn}. ${hint}`);
  }
}

export function checkStatusMapping(fn: string, value: unknown): StatusMapping | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${describe(value)} is not a valid value for statusMapping in ${fn}. Pass an object such as { NoActiveSubscription: 403 }.`);
  }
  const mapping: StatusMapping = {};
  for (const [reason, status] of Object.entries(value)) {
    if (!ACCESS_DENIED_REASONS.has(reason)) {
      throw new TypeError(`"${reason}" in statusMapping of ${fn} is not an AccessDeniedReason. Use one of: ${[...ACCESS_DENIED_REASONS].join(', ')}.`);
    }
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(`${describe(status)} is not a valid status for ${reason} in statusMapping of ${fn}. Please choose an integer from 400 to 599.`);
    }
    mapping[reason as AccessDeniedReason] = status;
  }
  return Object.freeze(mapping);
}

function checkLogger(fn: string, value: unknown): Logger {
  if (value === undefined) return silentLogger;
  const logger = value as Partial<Logger> | null;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError(`${describe(value)} is not a valid value for logger in ${fn}. Pass a structured logger with warn(meta, message) and error(meta, message) methods, e.g. a pino logger.`);
  }
  return logger as Logger;
}

export interface StiggOptionsShape {
  entitlements?: unknown;
  customer?: unknown;
  resource?: unknown;
  statusMapping?: unknown;
  onDenied?: unknown;
  reportWhen?: unknown;
  logger?: unknown;
}

export function resolveStiggOptions<Req, Deny>(flavor: Flavor, options: unknown): StiggConfig<Req, Deny> {
  const fn = 'stigg()';
  if (looksLikeRequest(options)) {
    throw new TypeError(`stigg was used as a middleware without being called. Write app.use(stigg({ entitlements, customer })) instead of app.use(stigg) (${flavor.module}).`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${fn} needs an options object: stigg({ entitlements, customer: (${flavor.arg}) => customerId }).`);
  }
  const o = options as StiggOptionsShape;
  const entitlements = o.entitlements as Partial<Entitlements> | undefined;
  if (typeof entitlements !== 'object' || entitlements === null || typeof entitlements.acquire !== 'function') {
    throw new TypeError(`${fn} needs the entitlements option: pass the instance returned by createEntitlements({ client }) from 'stigg-gate'.`);
  }
  if (typeof o.customer !== 'function') {
    throw new TypeError(`${fn} needs the customer option: a function that returns the Stigg customer id of the request's authenticated user, e.g. customer: (${flavor.arg}) => ${flavor.arg === 'req' ? 'req.user' : 'ctx.state.user'}?.stiggCustomerId.`);
  }
  checkFunction(fn, 'resource', o.resource, `Pass a function that returns the Stigg resource id, e.g. resource: (${flavor.arg}) => ${flavor.arg}.params.siteId.`);
  checkFunction(fn, 'onDenied', o.onDenied, 'Pass a function that renders the denial itself.');
  checkFunction(fn, 'reportWhen', o.reportWhen, 'Pass a function of the response status code, e.g. reportWhen: (status) => status < 300.');
  return Object.freeze({
    entitlements: entitlements as Entitlements,
    customer: o.customer as Resolver<Req>,
    resource: o.resource as Resolver<Req> | undefined,
    statusMapping: checkStatusMapping(fn, o.statusMapping),
    onDenied: o.onDenied as Deny | undefined,
    reportWhen: (o.reportWhen as ReportWhen | undefined) ?? reportWhenSuccessful,
    logger: checkLogger(fn, o.logger),
    warned: new Set<string>(),
  });
}

export interface RouteOptionsShape {
  resource?: unknown;
  statusMapping?: unknown;
  onDenied?: unknown;
  reportWhen?: unknown;
}

export function resolveRouteOptions<Req, Deny>(flavor: Flavor, featureId: unknown, requestedUsage: unknown, options: unknown): RouteConfig<Req, Deny> {
  if (looksLikeRequest(featureId)) {
    throw new TypeError(`requireFeature was used as a middleware without being called. Write requireFeature('feature-id') (optionally with a usage) instead of passing requireFeature itself (${flavor.module}).`);
  }
  if (typeof featureId !== 'string' || featureId.trim() === '') {
    throw new TypeError(`${describe(featureId)} is not a valid feature id for requireFeature(). Pass the feature's id as it appears in Stigg, e.g. requireFeature('feature-01-templates').`);
  }
  const fn = `requireFeature('${featureId}')`;
  if (typeof requestedUsage === 'number') {
    if (!Number.isFinite(requestedUsage) || requestedUsage < 0) {
      throw new TypeError(`${describe(requestedUsage)} is not a valid requestedUsage for ${fn}. Please choose a finite number >= 0, or pass a function of the request.`);
    }
  } else if (requestedUsage !== undefined && typeof requestedUsage !== 'function') {
    const hint = typeof requestedUsage === 'object' && requestedUsage !== null && options === undefined
      ? ` To pass options without a usage write requireFeature('${featureId}', undefined, options).`
      : '';
    throw new TypeError(`${describe(requestedUsage)} is not a valid requestedUsage for ${fn}. Pass a number >= 0 or a function (${flavor.arg}) => number.${hint}`);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`${describe(options)} is not a valid options object for ${fn}. Pass { resource?, statusMapping?, onDenied?, reportWhen? }.`);
  }
  const o = (options ?? {}) as RouteOptionsShape;
  checkFunction(fn, 'resource', o.resource, `Pass a function that returns the Stigg resource id, e.g. resource: (${flavor.arg}) => ${flavor.arg}.params.siteId.`);
  checkFunction(fn, 'onDenied', o.onDenied, 'Pass a function that renders the denial itself.');
  checkFunction(fn, 'reportWhen', o.reportWhen, 'Pass a function of the response status code, e.g. reportWhen: (status) => status < 300.');
  return Object.freeze({
    featureId,
    requestedUsage: requestedUsage as number | UsageResolver<Req> | undefined,
    resource: o.resource as Resolver<Req> | undefined,
    statusMapping: checkStatusMapping(fn, o.statusMapping),
    onDenied: o.onDenied as Deny | undefined,
    reportWhen: o.reportWhen as ReportWhen | undefined,
  });
}

export function missingStiggError(flavor: Flavor, featureId: string): TypeError {
  return new TypeError(
    `requireFeature('${featureId}') ran on a request that did not pass through stigg(). Add app.use(stigg({ entitlements, customer })) from '${flavor.module}' before the gated routes.`,
  );
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

/**
 * Settle a granted lease by how the response ends: commit when it finished with a status that
 * `reportWhen` accepts, release on any other status or when the connection closed before it finished.
 * Node emits 'close' on every response (after 'finish', or alone on a disconnect), so one listener does.
 */
export function settleOnResponse(res: ServerResponse, lease: Lease, reportWhen: ReportWhen, logger: Logger): void {
  res.on('close', function settleLease() {
    const finished = res.writableFinished;
    try {
      if (finished && reportWhen(res.statusCode)) lease.commit();
      else lease.release();
    } catch (error) {
      logger.error({
        featureId: lease.decision.featureId,
        error,
      }, 'stigg-gate: settling the usage of a request failed; nothing was reported for it');
      if (finished) safeRelease(lease);
    }
  });
}

function safeRelease(lease: Lease): void {
  try {
    lease.release();
  } catch {
    // The lease is already unusable; the reservation expires with its TTL.
  }
}
