import type { FastifyError, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { StatusMapping, Decision } from '../../core';
import { isRequestContextEnabled, requestContextStorage } from '../../core/internal';
import * as g from '../gate';
import { failOnRejection, watchAndContinue } from '../node-host';
import { answerThrown, gatedMiddleware, type Host } from '../pipeline';
import { PROBLEM_CONTENT_TYPE, retryAfterHeader } from '../problem';
import { refuseUncalledMount } from '../uncalled';
import { HANDLER_NAME, INTERNAL_PROBLEM, isClientError, outsidePluginError, reachesDefaultHandler } from './errors';
import { configOf, flavor, scopedGate, type OnDenied } from './plugin';

export * from '../adapter-exports';
export { stiggPlugin, type OnDenied, type StiggPluginOptions } from './plugin';
export { stiggWebhook } from './webhook';

declare module 'fastify' {
  interface FastifyRequest {
    /** The decision of the last requireFeature that granted this request (null before one did). */
    entitlement: Decision | null;
    /** Every granted requireFeature decision on this request, by feature id (null before one did). */
    entitlements: Record<string, Decision> | null;
  }
}

export type RequireFeatureOptions = g.RequireFeatureOptionsFor<FastifyRequest, OnDenied, FastifyReply>;
export type EntitlementErrorHandlerOptions = { statusMapping?: StatusMapping | undefined };
/** A preHandler hook: `{ preHandler: requireFeature('feature-id', 1) }`. */
export type RequireFeatureHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
export type EntitlementErrorHandler = (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => void;

const host: Host<FastifyRequest, OnDenied, FastifyRequest, FastifyReply, HookHandlerDoneFunction, void> = {
  gate: scopedGate,
  missing: (_request, _reply, done, featureId) => done(outsidePluginError(featureId)),
  gone: (_request, reply) => g.isResponseGone(reply.raw),
  left: () => undefined,
  record: (request, _reply, decision) => g.recordDecision(request as g.DecisionBag, decision),
  // 'close' of the raw response, not onResponse: Fastify skips onResponse when the client went away first.
  proceed: (_request, reply, done, settlement) => watchAndContinue(reply.raw, done, settlement),
  send(_request, reply, problem, retryAfterSeconds) {
    reply.code(problem.status).header('content-type', PROBLEM_CONTENT_TYPE);
    if (retryAfterSeconds !== undefined) reply.header('retry-after', retryAfterHeader(retryAfterSeconds));
    reply.send(JSON.stringify(problem));
  },
  deny: (onDenied, decision, request, reply, done, problem) => failOnRejection(onDenied(decision, request, reply, problem), done),
  fail(request, reply, done, error, gate) {
    // Fastify's default error handler echoes error.message in its body: a resolver's error stays in the log.
    if (isClientError(error) || !reachesDefaultHandler(request.server)) return done(error as Error);
    gate.config.logger.error({ error }, 'stigg-gate: a resolver of requireFeature() failed; answered 500 without its message');
    host.send(request, reply, INTERNAL_PROBLEM, undefined);
  },
  header: (_request, reply, name, value) => void reply.header(name, value),
};

/**
 * A preHandler hook gating a route on `featureId`, reserving `requestedUsage` (a number, or a function of
 * (request, reply)) by the rule of docs/usage.md; `request.entitlement` holds the decision (and settle(units)).
 * Answers 402/403/401/400/503 problem+json (docs/options.md); outside a stiggPlugin scope it fails the request.
 */
export function requireFeature(
  featureId: string,
  usage?: g.RequestedUsage<FastifyRequest, FastifyReply>,
  options?: RequireFeatureOptions,
): RequireFeatureHook {
  const run = gatedMiddleware(host, g.resolveRouteOptions<FastifyRequest, OnDenied>(flavor, featureId, usage, options));
  return function requireFeatureHook(request, reply, done) {
    // stigg-gate/decorators loaded after the plugin was registered: no onRequest hook entered the context.
    const gate = isRequestContextEnabled() && requestContextStorage.getStore() === undefined ? host.gate(request, reply) : undefined;
    if (gate === undefined) void run(request, reply, done);
    else requestContextStorage.run(gate, () => void run(request, reply, done));
  };
}

/**
 * For `app.setErrorHandler(...)`: renders the entitlement errors decorated methods throw as problem+json;
 * rethrows every other error, to the parent scope's error handler (in the end Fastify's default).
 */
export function entitlementErrorHandler(options?: EntitlementErrorHandlerOptions): EntitlementErrorHandler {
  const { statusMapping: mapping } = g.resolveErrorHandlerOptions(flavor, options, 'app.setErrorHandler(entitlementErrorHandler())');
  const handler: EntitlementErrorHandler = (error, request, reply) => {
    if (!answerThrown(host, request, reply, reply.sent, error, mapping, configOf(request))) throw error;
  };
  return Object.defineProperty(handler, 'name', { value: HANDLER_NAME });
}

// A route hook that is one of these uncalled fails stiggPlugin's onRoute check at registration (src/middleware/uncalled.ts).
for (const factory of [requireFeature, entitlementErrorHandler]) refuseUncalledMount(factory, null);
