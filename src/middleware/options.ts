import { type StatusMapping, idProblem } from '../core';
import type { AccessDeniedReason, Decision, EnforcementMode, Entitlements, Logger, MaybePromise } from '../core';
import { silentLogger, valuesProblem } from '../core/internal';
import { describeValue as describe } from '../util/describe-value';
import { rejectUnknownOptions } from '../util/unknown-options';
import { ACCESS_DENIED_REASONS } from './problem';
import { isUnitCount } from '../util/unit-count';

/** The options of stigg() and requireFeature(), their validation and the filled-in configs the gate reads. */

/**
 * Resolvers get what the framework hands a middleware: `Req` (Express's req, Koa's ctx, Fastify's
 * request, Hono's c) and, where there is one, `Res` (Express's res, Fastify's reply).
 */
export type Resolver<Req, Res = never> = (req: Req, res: Res) => MaybePromise<string | undefined | null>;
export type UsageResolver<Req, Res = never> = (req: Req, res: Res) => MaybePromise<number>;
/** The values of an ENUM feature a request needs, e.g. `(req) => [req.body.model]`. */
export type ValuesResolver<Req, Res = never> = (req: Req, res: Res) => MaybePromise<readonly string[]>;
export type ReportWhen = (statusCode: number) => boolean;
/**
 * What a response cut off after it started (a client leaving mid-stream, a stream that broke) reports:
 * 'commit' the reservation (the default: the work was done, a hang-up must not make it free),
 * 'release' it, or a function returning the units to report (0 reports nothing).
 */
export type OnAbort<Req> = 'commit' | 'release' | ((progress: AbortProgress, req: Req) => number);

/** What an onAbort function is told about a response cut short. */
export interface AbortProgress {
  readonly decision: Decision;
  /** Milliseconds since the handler was let through. */
  readonly elapsedMs: number;
}

/**
 * stigg() options; `Req` (and `Res`) is what the framework hands a middleware (Request, Context…), `Deny`
 * the adapter's onDenied. Optional members also take `undefined` (exactOptionalPropertyTypes).
 */
export interface StiggOptionsFor<Req, Deny, Res = never> {
  /** The instance returned by createEntitlements(). */
  entitlements: Entitlements;
  /** The Stigg customer id of the request's authenticated user; undefined answers 401. Runs lazily, at most once per request. */
  customer: Resolver<Req, Res>;
  /** The Stigg resource id the request acts on, for resource-scoped entitlements. */
  resource?: Resolver<Req, Res> | undefined;
  /** Status per AccessDeniedReason, over the default (402 when an upgrade helps, else 403). */
  statusMapping?: StatusMapping | undefined;
  /** Renders a denial yourself instead of the default problem+json response. */
  onDenied?: Deny | undefined;
  /** Whether a response with this status reports the requested usage. Default: status < 400. */
  reportWhen?: ReportWhen | undefined;
  /** A response cut off after it started (mid-stream): 'commit' (default), 'release', or (progress, req) => units. */
  onAbort?: OnAbort<Req> | undefined;
  /** Receives misconfiguration warnings and settle errors. Default: silent. */
  logger?: Logger | undefined;
  /** IETF RateLimit / RateLimit-Policy fields on metered routes (docs/options.md). Default: false. */
  rateLimitHeaders?: boolean | undefined;
}

/** requireFeature() options, each overriding stigg()'s for one route. */
export interface RequireFeatureOptionsFor<Req, Deny, Res = never> {
  /** Overrides stigg()'s resource resolver for this route. */
  resource?: Resolver<Req, Res> | undefined;
  /**
   * ENUM features: the values the request needs, each of which must be entitled (else 403
   * RequestedValuesMismatch naming those that are not). A list, or a function of the request.
   */
  requestedValues?: readonly string[] | ValuesResolver<Req, Res> | undefined;
  statusMapping?: StatusMapping | undefined;
  onDenied?: Deny | undefined;
  reportWhen?: ReportWhen | undefined;
  onAbort?: OnAbort<Req> | undefined;
  /**
   * 'shadow' serves every request of this route and counts what enforcement would deny
   * (entitlements.shadowCounts(), 'shadow:denied'); 'enforce' denies. Default: the engine's mode for the feature.
   */
  mode?: EnforcementMode | undefined;
  /** Overrides stigg()'s rateLimitHeaders for this route. */
  rateLimitHeaders?: boolean | undefined;
}

/** The usage requireFeature() reserves: a number, or a function of the request (sync or async). */
export type RequestedUsage<Req, Res = never> = number | UsageResolver<Req, Res>;

/** How an adapter names itself and its request argument in messages. */
export interface Flavor {
  /** The entry point, e.g. 'stigg-gate/express'. */
  readonly module: string;
  /** The name of the request argument in examples: 'req', 'ctx', 'c', 'request'. */
  readonly arg: string;
  /** An expression for the customer id in the fix-it message of a missing customer option. */
  readonly customerExample?: string;
}

export interface StiggConfig<Req, Deny> {
  readonly entitlements: Entitlements;
  readonly customer: Resolver<Req>;
  readonly resource: Resolver<Req> | undefined;
  readonly statusMapping: StatusMapping | undefined;
  readonly onDenied: Deny | undefined;
  readonly reportWhen: ReportWhen;
  readonly onAbort: OnAbort<Req>;
  readonly logger: Logger;
  /** RateLimit fields on metered routes (absent: off). */
  readonly rateLimitHeaders?: boolean;
  /** `${featureId}\0${reason}` already warned about. */
  readonly warned: Set<string>;
}

export interface RouteConfig<Req, Deny> {
  readonly featureId: string;
  /** A validated constant, or a function of the request whose result is checked per request. */
  readonly requestedUsage: number | UsageResolver<Req> | undefined;
  readonly requestedValues: readonly string[] | ValuesResolver<Req> | undefined;
  readonly resource: Resolver<Req> | undefined;
  readonly statusMapping: StatusMapping | undefined;
  readonly onDenied: Deny | undefined;
  readonly reportWhen: ReportWhen | undefined;
  readonly onAbort: OnAbort<Req> | undefined;
  /** The route's own mode; undefined: the engine's (createEntitlements mode and features). */
  readonly mode?: EnforcementMode | undefined;
  /** The route's own rateLimitHeaders; undefined: stigg()'s. */
  readonly rateLimitHeaders?: boolean | undefined;
}

/** The default reportWhen: a status below 400 reports the units. */
export function reportWhenSuccessful(statusCode: number): boolean {
  return statusCode < 400;
}

/** True for what a framework hands to a middleware (req, ctx, c): an object carrying a request. */
export function looksLikeRequest(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return 'headers' in value || 'req' in value || 'request' in value || 'method' in value;
}

function checkFunction(fn: string, name: string, value: unknown, hint: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${describe(value)} is not a valid value for ${name} in ${fn}. ${hint}`);
  }
}

export function checkStatusMapping(fn: string, value: unknown): StatusMapping | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(
      `${describe(value)} is not a valid value for statusMapping in ${fn}. Pass an object such as { NoActiveSubscription: 403 }.`,
    );
  }
  const mapping: StatusMapping = {};
  for (const [reason, status] of Object.entries(value)) {
    if (!ACCESS_DENIED_REASONS.has(reason)) {
      throw new TypeError(
        `"${reason}" in statusMapping of ${fn} is not an AccessDeniedReason. Use one of: ${[...ACCESS_DENIED_REASONS].join(', ')}.`,
      );
    }
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(
        `${describe(status)} is not a valid status for ${reason} in statusMapping of ${fn}. Please choose an integer from 400 to 599.`,
      );
    }
    mapping[reason as AccessDeniedReason] = status;
  }
  return Object.freeze(mapping);
}

function checkLogger(fn: string, value: unknown): Logger {
  if (value === undefined) return silentLogger;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: narrowing unknown to object loses warn/error
  const logger = value as Partial<Logger> | null;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError(
      `${describe(value)} is not a valid value for logger in ${fn}. Pass a structured logger with warn(meta, message) and error(meta, message) methods, e.g. a pino logger.`,
    );
  }
  return logger as Logger;
}

const STIGG_KEYS = [
  'entitlements',
  'customer',
  'resource',
  'statusMapping',
  'onDenied',
  'reportWhen',
  'onAbort',
  'logger',
  'rateLimitHeaders',
];
const ROUTE_KEYS = ['resource', 'requestedValues', 'statusMapping', 'onDenied', 'reportWhen', 'onAbort', 'mode', 'rateLimitHeaders'];

function checkBoolean(fn: string, name: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new TypeError(`${describe(value)} is not a valid value for ${name} in ${fn}. Pass true or false.`);
}

const ERROR_HANDLER_KEYS = ['statusMapping'];

/** onAbort: 'commit', 'release' or a function. */
export function checkOnAbort<Req>(fn: string, value: unknown): OnAbort<Req> | undefined {
  if (value === undefined || value === 'commit' || value === 'release' || typeof value === 'function')
    return value as OnAbort<Req> | undefined;
  throw new TypeError(
    `${describe(value)} is not a valid value for onAbort in ${fn}. Pass 'commit' (the default), 'release', or a function (progress, req) => units.`,
  );
}

interface StiggOptionsShape {
  entitlements?: unknown;
  customer?: unknown;
  resource?: unknown;
  statusMapping?: unknown;
  onDenied?: unknown;
  reportWhen?: unknown;
  onAbort?: unknown;
  logger?: unknown;
  rateLimitHeaders?: unknown;
}

export function resolveStiggOptions<Req, Deny>(flavor: Flavor, options: unknown): StiggConfig<Req, Deny> {
  const fn = 'stigg()';
  if (looksLikeRequest(options)) {
    throw new TypeError(
      `stigg was used as a middleware without being called. Write app.use(stigg({ entitlements, customer })) instead of app.use(stigg) (${flavor.module}).`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${fn} needs an options object: stigg({ entitlements, customer: (${flavor.arg}) => customerId }).`);
  }
  rejectUnknownOptions(options, STIGG_KEYS, fn);
  const o = options as StiggOptionsShape;
  const entitlements = o.entitlements as Partial<Entitlements> | undefined;
  if (typeof entitlements !== 'object' || entitlements === null || typeof entitlements.acquire !== 'function') {
    throw new TypeError(
      `${fn} needs the entitlements option: pass the instance returned by createEntitlements({ client }) from 'stigg-gate'.`,
    );
  }
  if (typeof o.customer !== 'function') {
    const example = flavor.customerExample ?? `${flavor.arg}.user?.stiggCustomerId`;
    throw new TypeError(
      `${fn} needs the customer option: a function that returns the Stigg customer id of the request's authenticated user, e.g. customer: (${flavor.arg}) => ${example}.`,
    );
  }
  checkFunction(
    fn,
    'resource',
    o.resource,
    `Pass a function that returns the Stigg resource id, e.g. resource: (${flavor.arg}) => ${flavor.arg}.params.siteId.`,
  );
  checkFunction(fn, 'onDenied', o.onDenied, 'Pass a function that renders the denial itself.');
  checkFunction(fn, 'reportWhen', o.reportWhen, 'Pass a function of the response status code, e.g. reportWhen: (status) => status < 300.');
  return Object.freeze({
    entitlements: entitlements as Entitlements,
    customer: o.customer as Resolver<Req>,
    resource: o.resource as Resolver<Req> | undefined,
    statusMapping: checkStatusMapping(fn, o.statusMapping),
    onDenied: o.onDenied as Deny | undefined,
    reportWhen: (o.reportWhen as ReportWhen | undefined) ?? reportWhenSuccessful,
    onAbort: checkOnAbort<Req>(fn, o.onAbort) ?? 'commit',
    logger: checkLogger(fn, o.logger),
    rateLimitHeaders: checkBoolean(fn, 'rateLimitHeaders', o.rateLimitHeaders) ?? false,
    warned: new Set<string>(),
  });
}

interface RouteOptionsShape {
  resource?: unknown;
  requestedValues?: unknown;
  statusMapping?: unknown;
  onDenied?: unknown;
  reportWhen?: unknown;
  onAbort?: unknown;
  mode?: unknown;
  rateLimitHeaders?: unknown;
}

/** A route's or decorator's mode: 'enforce', 'shadow', or undefined (the engine's). */
export function checkMode(fn: string, value: unknown): EnforcementMode | undefined {
  if (value === undefined || value === 'enforce' || value === 'shadow') return value;
  throw new TypeError(
    `${describe(value)} is not a valid value for mode in ${fn}. Pass 'shadow' (serve every request, count what would be denied) or 'enforce', or omit it for the engine's mode.`,
  );
}

export function resolveRouteOptions<Req, Deny>(
  flavor: Flavor,
  featureId: unknown,
  requestedUsage: unknown,
  options: unknown,
): RouteConfig<Req, Deny> {
  if (looksLikeRequest(featureId)) {
    throw new TypeError(
      `requireFeature was used as a middleware without being called. Write requireFeature('feature-id') (optionally with a usage) instead of passing requireFeature itself (${flavor.module}).`,
    );
  }
  if (typeof featureId !== 'string' || featureId.trim() === '') {
    throw new TypeError(
      `${describe(featureId)} is not a valid feature id for requireFeature(). Pass the feature's id as it appears in Stigg, e.g. requireFeature('feature-01-templates').`,
    );
  }
  const featureIdProblem = idProblem(featureId);
  if (featureIdProblem !== undefined) {
    throw new TypeError(
      `The feature id given to requireFeature() ${featureIdProblem}. Pass the feature's id exactly as it appears in Stigg, e.g. requireFeature('feature-01-templates').`,
    );
  }
  const fn = `requireFeature('${featureId}')`;
  if (typeof requestedUsage === 'number') {
    if (!isUnitCount(requestedUsage)) {
      throw new TypeError(
        `${describe(requestedUsage)} is not a valid requestedUsage for ${fn}. Please choose a number >= 0 and at most Number.MAX_SAFE_INTEGER, or pass a function of the request.`,
      );
    }
  } else if (requestedUsage !== undefined && typeof requestedUsage !== 'function') {
    const hint =
      typeof requestedUsage === 'object' && requestedUsage !== null && options === undefined
        ? ` To pass options without a usage write requireFeature('${featureId}', undefined, options).`
        : '';
    throw new TypeError(
      `${describe(requestedUsage)} is not a valid requestedUsage for ${fn}. Pass a number >= 0 or a function (${flavor.arg}) => number.${hint}`,
    );
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(
      `${describe(options)} is not a valid options object for ${fn}. Pass { resource?, requestedValues?, statusMapping?, onDenied?, reportWhen?, onAbort?, mode?, rateLimitHeaders? }.`,
    );
  }
  const o = (options ?? {}) as RouteOptionsShape;
  rejectUnknownOptions(o, ROUTE_KEYS, fn);
  checkFunction(
    fn,
    'resource',
    o.resource,
    `Pass a function that returns the Stigg resource id, e.g. resource: (${flavor.arg}) => ${flavor.arg}.params.siteId.`,
  );
  checkFunction(fn, 'onDenied', o.onDenied, 'Pass a function that renders the denial itself.');
  checkFunction(fn, 'reportWhen', o.reportWhen, 'Pass a function of the response status code, e.g. reportWhen: (status) => status < 300.');
  return Object.freeze({
    featureId,
    requestedUsage: requestedUsage as number | UsageResolver<Req> | undefined,
    requestedValues: checkValues(fn, o.requestedValues, flavor),
    resource: o.resource as Resolver<Req> | undefined,
    statusMapping: checkStatusMapping(fn, o.statusMapping),
    onDenied: o.onDenied as Deny | undefined,
    reportWhen: o.reportWhen as ReportWhen | undefined,
    onAbort: checkOnAbort<Req>(fn, o.onAbort),
    mode: checkMode(fn, o.mode),
    rateLimitHeaders: checkBoolean(fn, 'rateLimitHeaders', o.rateLimitHeaders),
  });
}

function checkValues<Req>(fn: string, value: unknown, flavor: Flavor): readonly string[] | ValuesResolver<Req> | undefined {
  if (value === undefined || typeof value === 'function') return value as ValuesResolver<Req> | undefined;
  const problem = valuesProblem(value);
  if (problem !== undefined) {
    throw new TypeError(
      `requestedValues of ${fn} ${problem}. Pass the ENUM values the route needs, e.g. requestedValues: ['gpt-4o'], or a function (${flavor.arg}) => string[].`,
    );
  }
  return Object.freeze([...(value as string[])]);
}

export interface ErrorHandlerConfig {
  readonly statusMapping: StatusMapping | undefined;
}

/**
 * entitlementErrorHandler(options); `mount` says how to mount it ('app.use(entitlementErrorHandler()) after
 * your routes' for Express), `keys` the options it takes.
 */
export function resolveErrorHandlerOptions(flavor: Flavor, options: unknown, mount: string, keys = ERROR_HANDLER_KEYS): ErrorHandlerConfig {
  if (looksLikeRequest(options)) {
    throw new TypeError(`entitlementErrorHandler was used without being called. Write ${mount} (${flavor.module}).`);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`entitlementErrorHandler() takes an optional options object: entitlementErrorHandler({ ${keys.join(', ')} }).`);
  }
  const o = (options ?? {}) as { statusMapping?: unknown };
  rejectUnknownOptions(o, keys, 'entitlementErrorHandler()');
  return Object.freeze({ statusMapping: checkStatusMapping('entitlementErrorHandler()', o.statusMapping) });
}

export function missingStiggError(flavor: Flavor, featureId: string): TypeError {
  return new TypeError(
    `requireFeature('${featureId}') ran on a request that did not pass through stigg(). Add app.use(stigg({ entitlements, customer })) from '${flavor.module}' before the gated routes.`,
  );
}
