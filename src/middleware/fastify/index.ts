import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { afterRequestContextEnabled, isRequestContextEnabled, requestContextStorage } from '../../core/context';
import { isThenable } from '../../core/maybe-promise';
import { EntitlementDeniedError, EntitlementUnavailableError, type StatusMapping } from '../../core/errors';
import type { Decision, MaybePromise } from '../../core/types';
import { rejectUnknownOptions } from '../../core/unknown-options';
import {
  RequestGate,
  checkStatusMapping,
  isResponseGone,
  looksLikeRequest,
  releaseQuietly,
  renderThrown,
  resolveRouteOptions,
  resolveStiggOptions,
  settleable,
  toThrowable,
  type Flavor,
  type Outcome,
  type RouteConfig,
  type StiggConfig,
  type StiggOptionsFor,
  type RequireFeatureOptionsFor,
} from '../gate';
import { PROBLEM_CONTENT_TYPE, retryAfterHeader, type ProblemDetails } from '../problem';
import { sharedScopePlugin } from './plugin';

export type { ProblemDetails } from '../problem';
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../problem';

declare module 'fastify' {
  interface FastifyRequest {
    /** The decision of the last requireFeature that granted this request (null before one did). */
    entitlement: Decision | null;
    /** Every granted requireFeature decision on this request, by feature id (null before one did). */
    entitlements: Record<string, Decision> | null;
  }
}

/** Renders a denial yourself instead of the default problem+json response. It must send the reply. */
export type OnDenied = (decision: Decision, request: FastifyRequest, reply: FastifyReply, problem: ProblemDetails) => void | Promise<void>;

/** stiggPlugin's options: the same as stigg() for Express and Koa, resolvers taking the Fastify request. */
export type StiggPluginOptions = StiggOptionsFor<FastifyRequest, OnDenied>;
export type RequireFeatureOptions = RequireFeatureOptionsFor<FastifyRequest, OnDenied>;

export interface EntitlementErrorHandlerOptions {
  statusMapping?: StatusMapping;
}

/** A preHandler hook: `{ preHandler: requireFeature('feature-id', 1) }`. */
export type RequireFeatureHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

const flavor: Flavor = {
  module: 'stigg-gate/fastify',
  arg: 'request',
  customerExample: 'request.user?.stiggCustomerId',
};
/** Options Fastify's register() itself takes; they are not stiggPlugin's to validate. */
const REGISTER_KEYS: ReadonlySet<string> = new Set(['prefix', 'logLevel', 'logSerializers']);
const kConfig = Symbol.for('stigg-gate.fastify.config');
const kGate = Symbol.for('stigg-gate.fastify.gate');

type Config = StiggConfig<FastifyRequest, OnDenied>;
type Gate = RequestGate<FastifyRequest, OnDenied>;
type Route = RouteConfig<FastifyRequest, OnDenied>;
type ConfiguredInstance = FastifyInstance & { [kConfig]?: Config };
type GatedRequest = FastifyRequest & { [kGate]: Gate | null };

function ownOptions(options: unknown): unknown {
  if (typeof options !== 'object' || options === null || looksLikeRequest(options)) return options;
  return Object.fromEntries(Object.entries(options).filter(([key]) => !REGISTER_KEYS.has(key)));
}

function registerStigg(fastify: FastifyInstance, options: StiggPluginOptions, done: (error?: Error) => void): void {
  if (typeof (fastify as Partial<FastifyInstance>).register !== 'function') {
    throw new TypeError(
      'stiggPlugin is a Fastify plugin, not a hook: register it with app.register(stiggPlugin, { entitlements, customer }) (stigg-gate/fastify).',
    );
  }
  let config: Config;
  try {
    config = resolveStiggOptions<FastifyRequest, OnDenied>(flavor, ownOptions(options));
  } catch (error) {
    done(error as Error);
    return;
  }
  // Marked skip-override (./plugin), this runs in the registering scope: that scope and its children see the config
  // (inherited through the instance prototype), sibling scopes do not.
  (fastify as ConfiguredInstance)[kConfig] = config;
  if (!fastify.hasRequestDecorator('entitlement')) {
    fastify.decorateRequest('entitlement', null);
    fastify.decorateRequest('entitlements', null);
    fastify.decorateRequest(kGate as unknown as string, null);
  }
  // The request context (AsyncLocalStorage, for decorated service methods) costs a hook on every
  // request, so it is only entered when stigg-gate/decorators is loaded. Loaded later, only gated
  // routes enter it (in requireFeature), and the app is told why.
  if (isRequestContextEnabled()) {
    fastify.addHook('onRequest', function stiggRequestContext(request, _reply, next) {
      requestContextStorage.run(gateOf(request as GatedRequest, config), next);
    });
  } else {
    afterRequestContextEnabled(function warnLateDecorators() {
      config.logger.warn(
        { module: flavor.module },
        'stigg-gate: stigg-gate/decorators was loaded after stiggPlugin was registered, so decorated methods find the request only on routes gated with requireFeature. Import stigg-gate/decorators before app.register(stiggPlugin, ...).',
      );
    });
  }
  done();
}

/**
 * Registers the gate for this encapsulation context and its children:
 * `app.register(stiggPlugin, { entitlements, customer: (request) => request.user?.stiggCustomerId })`.
 * Routes are gated one by one with `{ preHandler: requireFeature('feature-id', usage?) }`.
 */
export const stiggPlugin: FastifyPluginCallback<StiggPluginOptions> = sharedScopePlugin(registerStigg, {
  fastify: '4.x || 5.x',
  name: 'stigg-gate',
});

function gateOf(request: GatedRequest, config: Config): Gate {
  const held = request[kGate];
  if (held !== null && held !== undefined && held.config === config) return held;
  const gate: Gate = new RequestGate<FastifyRequest, OnDenied>(config, request, request.method);
  request[kGate] = gate;
  return gate;
}

function send(reply: FastifyReply, problem: ProblemDetails, retryAfterSeconds?: number): void {
  reply.code(problem.status).header('content-type', PROBLEM_CONTENT_TYPE);
  if (retryAfterSeconds !== undefined) reply.header('retry-after', retryAfterHeader(retryAfterSeconds));
  reply.send(JSON.stringify(problem));
}

function recordDecision(request: FastifyRequest, decision: Decision): void {
  request.entitlement = decision;
  request.entitlements ??= {};
  request.entitlements[decision.featureId] = decision;
}

function apply(
  gate: Gate,
  route: Route,
  outcome: Outcome,
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  if (outcome.kind === 'granted') {
    const lease = outcome.lease;
    if (isResponseGone(reply.raw)) {
      releaseQuietly(lease, gate.config.logger);
      gate.abandon();
      return;
    }
    // 'close' of the raw response, not onResponse: Fastify skips onResponse when the client went away first.
    if (lease.decision.metered) {
      const settlement = gate.settlement(route, lease);
      recordDecision(request, settleable(settlement));
      settlement.watch(reply.raw);
    } else recordDecision(request, lease.decision);
    done();
    return;
  }
  if (outcome.kind === 'problem') {
    send(reply, outcome.problem, outcome.retryAfterSeconds);
    return;
  }
  releaseQuietly(outcome.lease, gate.config.logger);
  // The handler will not run: what earlier gates granted goes back, whatever status onDenied answers.
  gate.abandon();
  const onDenied = gate.onDenied(route);
  if (onDenied === undefined) {
    send(reply, outcome.problem);
    return;
  }
  const rendered = onDenied(outcome.lease.decision, request, reply, outcome.problem);
  if (isThenable(rendered)) rendered.then(undefined, (error: unknown) => done(toThrowable(error) as Error));
}

function missingPluginError(featureId: string): TypeError {
  return new TypeError(
    `requireFeature('${featureId}') ran on a request whose route is outside every stiggPlugin scope. Register it first: app.register(stiggPlugin, { entitlements, customer }) from 'stigg-gate/fastify', in this scope or a parent.`,
  );
}

/**
 * A preHandler hook gating a route on `featureId`. `requestedUsage` (a number, or a function of the
 * request) is reserved now and reported when the handler sends its reply with a status < 400, whether
 * or not the client read it; released on 4xx/5xx or a thrown error. A reply cut off mid-stream follows
 * `onAbort`; `request.entitlement.settle(units)` reports the units actually used instead. Responses: denials 402/403,
 * no customer 401, bad usage from the request 400, no decision under fail-closed 503 + Retry-After,
 * all application/problem+json. Outside a stiggPlugin scope it fails the request with a TypeError.
 */
export function requireFeature(
  featureId: string,
  requestedUsage?: number | ((request: FastifyRequest) => MaybePromise<number>),
  options?: RequireFeatureOptions,
): RequireFeatureHook {
  const route = resolveRouteOptions<FastifyRequest, OnDenied>(flavor, featureId, requestedUsage, options);
  return function requireFeatureHook(request, reply, done) {
    const config = (request.server as ConfiguredInstance)[kConfig];
    if (config === undefined) {
      done(missingPluginError(route.featureId));
      return;
    }
    const gate = gateOf(request as GatedRequest, config);
    // stigg-gate/decorators loaded after the plugin was registered: no onRequest hook entered the context.
    if (isRequestContextEnabled() && requestContextStorage.getStore() === undefined) {
      requestContextStorage.run(gate, () => gateRoute(gate, route, request, reply, done));
      return;
    }
    gateRoute(gate, route, request, reply, done);
  };
}

/** Decide, then answer or let the route run. */
function gateRoute(gate: Gate, route: Route, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (isResponseGone(reply.raw)) {
    gate.abandon();
    return;
  }
  let outcome: MaybePromise<Outcome>;
  try {
    outcome = gate.evaluate(route);
  } catch (error) {
    done(toThrowable(error) as Error);
    return;
  }
  if (!isThenable(outcome)) {
    apply(gate, route, outcome, request, reply, done);
    return;
  }
  outcome.then(
    function applyOutcome(value) {
      try {
        apply(gate, route, value, request, reply, done);
      } catch (error) {
        done(toThrowable(error) as Error);
      }
    },
    function failed(error: unknown) {
      done(toThrowable(error) as Error);
    },
  );
}

export type EntitlementErrorHandler = (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => void;

/**
 * An error handler for `app.setErrorHandler(...)` rendering EntitlementDeniedError /
 * EntitlementUnavailableError (thrown by decorated methods) as problem+json. Every other error is
 * rethrown, which hands it to the parent scope's error handler (in the end Fastify's default).
 */
export function entitlementErrorHandler(options?: EntitlementErrorHandlerOptions): EntitlementErrorHandler {
  if (looksLikeRequest(options)) {
    throw new TypeError(
      'entitlementErrorHandler was used without being called. Write app.setErrorHandler(entitlementErrorHandler()) (stigg-gate/fastify).',
    );
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('entitlementErrorHandler() takes an optional options object: entitlementErrorHandler({ statusMapping }).');
  }
  rejectUnknownOptions(options ?? {}, ['statusMapping'], 'entitlementErrorHandler()');
  const mapping = checkStatusMapping('entitlementErrorHandler()', options?.statusMapping);
  return function stiggEntitlementErrorHandler(error, request, reply) {
    const rendered = reply.sent ? undefined : renderThrown(error, mapping, (request.server as ConfiguredInstance)[kConfig]);
    if (rendered === undefined) throw error;
    send(reply, rendered.problem, rendered.retryAfterSeconds);
  };
}

export { EntitlementDeniedError, EntitlementUnavailableError };
export { InvalidIdError } from '../../core/input';
