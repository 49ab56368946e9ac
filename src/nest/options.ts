import type { ExecutionContext } from '@nestjs/common';
import { createEntitlements, type EntitlementsOptions, type StatusMapping } from '../core';
import type { Decision, Entitlements, Logger, MaybePromise } from '../core';
import { silentLogger } from '../core/internal';
import { describeValue } from '../util/describe-value';
import { rejectUnknownOptions } from '../util/unknown-options';
import { checkOnAbort, checkStatusMapping, type OnAbort, type StiggConfig } from '../middleware/gate';
import type { ProblemDetails } from '../middleware/problem';

export type ContextResolver = (context: ExecutionContext) => MaybePromise<string | undefined | null>;

/**
 * Turns a denial (402/403) into the exception Nest handles instead of EntitlementProblemException:
 * return it (or throw it), e.g. `new HttpException({ upgrade: decision.featureId }, problem.status)`.
 * It then goes to the app's own exception filters (StiggExceptionFilter catches only stigg-gate's errors).
 */
export type NestDeniedHandler = (decision: Decision, context: ExecutionContext, problem: ProblemDetails) => unknown;

/** What StiggModule needs besides the entitlements instance (or the options to create one). */
export interface StiggNestOptions {
  /**
   * The Stigg customer id of the request's authenticated user, from the ExecutionContext (e.g.
   * `(ctx) => ctx.switchToHttp().getRequest().user?.stiggCustomerId`). Runs at most once per request.
   * Default: none, so every gated route answers 401 until the app says where its customer is.
   */
  customer?: ContextResolver;
  /** The Stigg resource id the request acts on, for resource-scoped entitlements. */
  resource?: ContextResolver;
  /** Status per AccessDeniedReason, over the default (402 when an upgrade helps, else 403). */
  statusMapping?: StatusMapping;
  /** Whether a response with this status reports the reserved usage. Default: status < 400. */
  reportWhen?: (statusCode: number) => boolean;
  /**
   * A response cut off after it started (a client leaving an SSE or StreamableFile mid-stream):
   * 'commit' the reservation (default: the work was done), 'release' it, or (progress, context) => units.
   */
  onAbort?: OnAbort<ExecutionContext>;
  /**
   * A denial (402/403) as the app wants it: `(decision, ctx, problem) => exception`, thrown instead of
   * EntitlementProblemException (by the guard, and for denials of decorated methods). Default: problem+json.
   */
  onDenied?: NestDeniedHandler;
  /**
   * Bind StiggExceptionFilter to every controller route (default true), so that stigg-gate's
   * EntitlementProblemExceptions are problem+json whatever the app's filters. false leaves them to the
   * app's own filters (e.g. an app-wide `@Catch(HttpException)`), and to Nest's default one after those.
   */
  useExceptionFilter?: boolean;
  /**
   * IETF RateLimit fields (`RateLimit-Policy`, `RateLimit`) on the answers of metered routes the guard
   * checks, granted or denied, as on the other adapters (docs/options.md). Default false.
   */
  rateLimitHeaders?: boolean;
  /** Receives misconfiguration warnings and settle errors (and the created instance's logs). Default: silent. */
  logger?: Logger;
}

/** Switches Nest reads when the module is declared: forRoot() takes them among its options, forRootAsync() beside useFactory. */
export interface StiggModuleSwitches {
  /** Register the module's providers in every module (Nest's `global: true`). Default false. */
  isGlobal?: boolean;
  /**
   * Register StiggGuard as a global guard (APP_GUARD). Default true. Set false when the app
   * authenticates in a guard of its own, and list StiggGuard after it: `@UseGuards(AuthGuard, StiggGuard)`.
   */
  useGlobalGuard?: boolean;
}

/** Either an instance the app created (`entitlements`), or the options StiggModule creates one from. */
export type StiggInstanceOptions = { entitlements: Entitlements } | (EntitlementsOptions & { entitlements?: undefined });

/** StiggModule.forRoot()'s options. */
export type StiggModuleOptions = StiggNestOptions & StiggModuleSwitches & StiggInstanceOptions;

/**
 * What forRootAsync()'s useFactory returns: forRoot()'s options without the module switches, which
 * Nest needs before the factory runs (they are forRootAsync()'s own options).
 */
export type StiggModuleFactoryOptions = StiggNestOptions & { isGlobal?: never; useGlobalGuard?: never } & StiggInstanceOptions;

export interface StiggModuleAsyncOptions extends StiggModuleSwitches {
  imports?: unknown[];
  inject?: unknown[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Nest's own factory type: injected parameters are typed by the app, not here.
  useFactory: (...args: any[]) => MaybePromise<StiggModuleFactoryOptions>;
}

/** Validated module configuration: the shared gate's, plus whether the module owns the instance. */
export interface StiggNestConfig extends StiggConfig<ExecutionContext, NestDeniedHandler> {
  /** True when StiggModule created the instance, and so closes it on shutdown. */
  readonly owned: boolean;
  /** Whether StiggExceptionFilter is bound to the app's routes. */
  readonly useExceptionFilter: boolean;
}

const NEST_KEYS = [
  'entitlements',
  'customer',
  'resource',
  'statusMapping',
  'reportWhen',
  'onAbort',
  'onDenied',
  'useExceptionFilter',
  'rateLimitHeaders',
  'isGlobal',
  'useGlobalGuard',
  'logger',
] as const;

/** Every createEntitlements() option; the compiler keeps the list complete. */
const ENTITLEMENTS_KEYS = Object.keys({
  client: true,
  store: true,
  cache: true,
  usage: true,
  reservationTtlMs: true,
  reservationMaxMs: true,
  fallback: true,
  failMode: true,
  retryAfterSeconds: true,
  mode: true,
  features: true,
  shadowUsage: true,
  circuitBreaker: true,
  reportChecks: true,
  logger: true,
  now: true,
} satisfies Record<keyof EntitlementsOptions, true>);

const KNOWN_KEYS = [...new Set<string>([...NEST_KEYS, ...ENTITLEMENTS_KEYS])];

function checkFunction(name: string, value: unknown, hint: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${describeValue(value)} is not a valid value for ${name} in StiggModule.forRoot(). ${hint}`);
  }
}

function checkBoolean(where: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`${describeValue(value)} is not a valid value for ${name} in ${where}. Please choose true or false.`);
  }
}

function checkLogger(value: unknown): Logger {
  if (value === undefined) return silentLogger;
  const logger = typeof value === 'object' && value !== null ? (value as Partial<Logger>) : undefined;
  if (logger === undefined || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError(
      `${describeValue(value)} is not a valid value for logger in StiggModule.forRoot(). Pass a structured logger with warn(meta, message) and error(meta, message) methods, e.g. a pino logger.`,
    );
  }
  return logger as Logger;
}

function reportWhenSuccessful(statusCode: number): boolean {
  return statusCode < 400;
}

function noCustomer(): undefined {
  return undefined;
}

/** The module-level switches, read when the module is declared (forRoot / forRootAsync). */
export function checkModuleSwitches(where: string, options: { isGlobal?: unknown; useGlobalGuard?: unknown }): void {
  checkBoolean(where, 'isGlobal', options.isGlobal);
  checkBoolean(where, 'useGlobalGuard', options.useGlobalGuard);
}

/** Validates forRoot() options (TypeError with a fix-it) and creates the entitlements instance when none is given. */
export function resolveModuleOptions(options: unknown): StiggNestConfig {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      'StiggModule.forRoot() needs an options object: StiggModule.forRoot({ client: Stigg.createClient(apiKey), customer: (ctx) => ctx.switchToHttp().getRequest().user?.stiggCustomerId }).',
    );
  }
  rejectUnknownOptions(options, KNOWN_KEYS, 'StiggModule.forRoot()');
  const o = options as Record<string, unknown>;
  checkModuleSwitches('StiggModule.forRoot()', o);
  checkFunction(
    'customer',
    o.customer,
    'Pass a function of the ExecutionContext, e.g. customer: (ctx) => ctx.switchToHttp().getRequest().user?.stiggCustomerId.',
  );
  checkFunction('resource', o.resource, 'Pass a function of the ExecutionContext that returns the Stigg resource id.');
  checkFunction('reportWhen', o.reportWhen, 'Pass a function of the response status code, e.g. reportWhen: (status) => status < 300.');
  checkFunction(
    'onDenied',
    o.onDenied,
    'Pass a function (decision, ctx, problem) that returns the exception to throw, e.g. onDenied: (decision, ctx, problem) => new HttpException({ upgrade: decision.featureId }, problem.status).',
  );
  checkBoolean('StiggModule.forRoot()', 'useExceptionFilter', o.useExceptionFilter);
  checkBoolean('StiggModule.forRoot()', 'rateLimitHeaders', o.rateLimitHeaders);
  const statusMapping = checkStatusMapping('StiggModule.forRoot()', o.statusMapping);
  const logger = checkLogger(o.logger);

  let entitlements: Entitlements;
  let owned: boolean;
  if (o.entitlements !== undefined) {
    const given = typeof o.entitlements === 'object' && o.entitlements !== null ? (o.entitlements as Partial<Entitlements>) : undefined;
    if (given === undefined || typeof given.acquire !== 'function' || typeof given.flush !== 'function') {
      throw new TypeError(
        `${describeValue(o.entitlements)} is not a valid value for entitlements in StiggModule.forRoot(). Pass the instance createEntitlements({ client }) returned, or leave it out and pass { client } to let the module create one.`,
      );
    }
    const stray = ENTITLEMENTS_KEYS.filter((key) => key !== 'logger' && o[key] !== undefined);
    if (stray.length > 0) {
      throw new TypeError(
        `StiggModule.forRoot() got both an entitlements instance and createEntitlements() options (${stray.join(', ')}). Pass one or the other: the options only configure an instance the module creates.`,
      );
    }
    entitlements = given as Entitlements;
    owned = false;
  } else {
    if (o.client === undefined) {
      throw new TypeError(
        "StiggModule.forRoot() needs either entitlements (an instance from createEntitlements()) or client (Stigg.createClient(apiKey) from 'stigg-gate') to create one.",
      );
    }
    const created: Record<string, unknown> = {};
    for (const key of ENTITLEMENTS_KEYS) if (o[key] !== undefined) created[key] = o[key];
    entitlements = createEntitlements(created as unknown as EntitlementsOptions);
    owned = true;
  }

  return Object.freeze({
    entitlements,
    owned,
    customer: (o.customer as ContextResolver | undefined) ?? noCustomer,
    resource: o.resource as ContextResolver | undefined,
    statusMapping,
    onDenied: o.onDenied as NestDeniedHandler | undefined,
    useExceptionFilter: o.useExceptionFilter !== false,
    reportWhen: (o.reportWhen as ((statusCode: number) => boolean) | undefined) ?? reportWhenSuccessful,
    onAbort: checkOnAbort<ExecutionContext>('StiggModule.forRoot()', o.onAbort) ?? 'commit',
    rateLimitHeaders: o.rateLimitHeaders === true,
    logger,
    warned: new Set<string>(),
  });
}
