import type { ServerResponse } from 'node:http';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { isRequestContextEnabled, requestContextStorage } from '../core/internal';
import { isThenable } from '../util/maybe-promise';
import type { MaybePromise, Decision } from '../core';
import { isResponseGone, releaseQuietly, type Outcome } from '../middleware/gate';
import { rateLimitFields } from '../middleware/rate-limit-headers';
import { EntitlementProblemException, deniedException, rawResponse } from './exception';
import type { StiggNestConfig } from './options';
import { planOf, type Plan, type Route } from './plan';
import { contextOf, type NestRequestContext } from './request-context';
import { STIGG_CONFIG } from './tokens';

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
    if (plan.routes.length === 0) return true;
    const res = rawResponse(executionContext.switchToHttp().getResponse());
    // A client that left while an earlier middleware or guard worked (slow authentication): not checked at all.
    if (res !== undefined && isResponseGone(res)) return false;
    const context = contextOf(this.config, executionContext);
    // Registered twice (globally and with @UseGuards): the first run already holds the units.
    if (context.enforcedFeatures(handler) !== undefined) return true;
    context.markEnforced(handler, plan.features);
    // Inside the request context, as under stigg() on the other adapters: the customer resolver and the
    // entitlements' own code see it (the interceptor enters it again for the handler, after the guards).
    const done = isRequestContextEnabled()
      ? requestContextStorage.run(context, () => this.evaluateFrom(context, executionContext, plan, 0))
      : this.evaluateFrom(context, executionContext, plan, 0);
    if (isThenable(done)) return done.then(() => this.proceed(context, res));
    return this.proceed(context, res);
  }

  /** The handler runs unless the client already left (its units are given back then). */
  private proceed(context: NestRequestContext, res: ServerResponse | undefined): boolean {
    if (res === undefined) return true;
    if (isResponseGone(res)) {
      context.releaseAll();
      return false;
    }
    context.settleWhenDone(res);
    return true;
  }

  /** Evaluates plan.routes[index…] in order; anything but a grant releases what this request already holds. */
  private evaluateFrom(context: NestRequestContext, executionContext: ExecutionContext, plan: Plan, index: number): MaybePromise<void> {
    for (let i = index; i < plan.routes.length; i += 1) {
      let outcome: MaybePromise<Outcome>;
      try {
        outcome = context.evaluate(plan.routes[i] as Route);
      } catch (error) {
        context.releaseAll();
        throw error;
      }
      if (isThenable(outcome)) {
        return outcome.then(
          (value) => {
            this.take(context, executionContext, value);
            return this.evaluateFrom(context, executionContext, plan, i + 1);
          },
          (error: unknown) => {
            context.releaseAll();
            throw error;
          },
        );
      }
      this.take(context, executionContext, outcome);
    }
    return undefined;
  }

  private take(context: NestRequestContext, executionContext: ExecutionContext, outcome: Outcome): void {
    if (outcome.kind === 'granted') {
      // Only metered grants hold units; a boolean grant has nothing to commit or release.
      if (outcome.lease.decision.metered) {
        context.hold(outcome.lease);
        if (this.config.rateLimitHeaders === true) rateLimit(executionContext, outcome.lease.decision);
      } else context.granted(outcome.lease.decision);
      return;
    }
    context.releaseAll();
    if (outcome.kind === 'denied') {
      releaseQuietly(outcome.lease, this.config.logger);
      if (this.config.rateLimitHeaders === true) rateLimit(executionContext, outcome.lease.decision);
      throw deniedException(this.config, outcome.lease.decision, executionContext, outcome.problem);
    }
    throw new EntitlementProblemException(outcome.problem, outcome.retryAfterSeconds);
  }
}

/** The RateLimit fields of a metered decision (../middleware/rate-limit-headers), set on the raw response the exception filter or the handler's answer then carries. */
function rateLimit(executionContext: ExecutionContext, decision: Decision): void {
  const fields = rateLimitFields(decision, Date.now());
  const res = fields === undefined ? undefined : rawResponse(executionContext.switchToHttp().getResponse());
  if (fields === undefined || res === undefined || res.headersSent) return;
  res.setHeader('RateLimit-Policy', fields.policy);
  res.setHeader('RateLimit', fields.state);
}
