import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { isRequestContextEnabled, requestContextStorage } from '../core/internal';
import type { MaybePromise } from '../core';
import { runGate, type Host } from '../middleware/pipeline';
import { EntitlementProblemException, deniedException } from './exception';
import type { NestDeniedHandler, StiggNestConfig } from './options';
import { planOf } from './plan';
import { contextOf, type NestRequestContext } from './request-context';
import { STIGG_CONFIG } from './tokens';

type Verdict = MaybePromise<boolean>;

/**
 * Nest as a host of the shared pipeline (../middleware/pipeline: runGate, the one outcome rule). The
 * middleware's arguments are the ExecutionContext, the request's context and the index of the route
 * being checked in context.routes. A grant goes on to the next route (the handler runs after the
 * last); anything else throws, so that the answer goes through Nest's exception filters (an app-wide
 * filter can restyle it): the problem as an EntitlementProblemException, a denial through onDenied.
 */
const host: Host<ExecutionContext, NestDeniedHandler, ExecutionContext, NestRequestContext, number, Verdict> = {
  gate: (_executionContext, context) => context,
  missing(_executionContext, _context, _index, featureId) {
    throw new TypeError(`stigg-gate/nest: no request context for ${featureId}`);
  },
  gone: (_executionContext, context) => context.gone(),
  // The handler does not run (Nest answers 403 on a response nobody reads); the gate gave back what it held.
  left: () => false,
  record: (_executionContext, context, decision) => context.granted(decision),
  proceed(executionContext, context, index, settlement) {
    // Settles by how the response ends, whoever ends it (the handler's answer, an exception filter).
    if (settlement !== undefined && context.raw !== undefined) settlement.watch(context.raw);
    const next = index + 1;
    const route = context.routes[next];
    return route === undefined ? true : (runGate(host, context, route, executionContext, context, next) as Verdict);
  },
  send(_executionContext, context, problem, retryAfterSeconds) {
    context.abandon();
    throw new EntitlementProblemException(problem, retryAfterSeconds);
  },
  deny(_onDenied, decision, executionContext, context, _index, problem) {
    throw deniedException(context.config, decision, executionContext, problem);
  },
  fail(_executionContext, context, _index, error) {
    context.abandon();
    throw error;
  },
  header(_executionContext, context, name, value) {
    const res = context.raw;
    if (res !== undefined && !res.headersSent) res.setHeader(name, value);
  },
};

/**
 * Enforces the `@RequireFeature(featureId, usage?)` metadata of a controller method (or its class)
 * before the handler runs: resolves the customer from the ExecutionContext (none: 401), reserves the
 * usage and throws an EntitlementProblemException (402/403/503 problem+json; a denial goes through
 * the module's onDenied when it has one). The reservation is committed when the response finishes
 * with a status < 400, released otherwise. `@SkipEntitlements()` routes pass unchecked.
 *
 * Requirements whose usage, customer or resource is a function of the method's arguments cannot be
 * checked before pipes ran; the method's own wrapper checks those when it is called, inside the
 * request context StiggInterceptor enters. Either way each feature is checked once per request.
 */
@Injectable()
export class StiggGuard implements CanActivate {
  constructor(@Inject(STIGG_CONFIG) private readonly config: StiggNestConfig) {}

  canActivate(executionContext: ExecutionContext): boolean | Promise<boolean> {
    if (executionContext.getType() !== 'http') return true;
    const handler = executionContext.getHandler();
    const plan = planOf(executionContext.getClass(), handler);
    const first = plan.routes[0];
    if (first === undefined) return true;
    const context = contextOf(this.config, executionContext);
    // Registered twice (globally and with @UseGuards): the first run already holds the units.
    if (context.enforcedFeatures(handler) !== undefined) return true;
    context.markEnforced(handler, plan.features);
    context.routes = plan.routes;
    // Inside the request context, as under stigg() on the other adapters: the customer resolver and the
    // entitlements' own code see it (the interceptor enters it again for the handler, after the guards).
    return (
      isRequestContextEnabled()
        ? requestContextStorage.run(context, () => runGate(host, context, first, executionContext, context, 0))
        : runGate(host, context, first, executionContext, context, 0)
    ) as boolean | Promise<boolean>;
  }
}
