import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { isThenable } from '../core/maybe-promise';
import type { MaybePromise } from '../core/types';
import { getFeatureRequirements, metadataVersion } from '../decorators/metadata';
import type { FeatureRequirement } from '../decorators/types';
import { isResponseGone, releaseQuietly, type Outcome, type RouteConfig } from '../middleware/gate';
import { EntitlementProblemException, rawResponse } from './exception';
import type { StiggNestConfig } from './options';
import { contextOf, type NestRequestContext } from './request-context';
import { STIGG_CONFIG } from './tokens';

type Route = RouteConfig<ExecutionContext, never>;

/** What the guard checks for one handler, computed once per handler (and again after new metadata). */
interface Plan {
  readonly version: number;
  /** Requirements the guard can check before the arguments exist: a constant usage, no customer/resource/entitlements/settle option of their own. */
  readonly routes: readonly Route[];
  readonly features: ReadonlySet<string>;
}

function checkable(requirement: FeatureRequirement): boolean {
  return (
    typeof requirement.requestedUsage !== 'function' &&
    typeof requirement.requestedValues !== 'function' &&
    requirement.settle === undefined &&
    requirement.customer === undefined &&
    requirement.resource === undefined &&
    requirement.entitlements === undefined
  );
}

function routeOf(requirement: FeatureRequirement): Route {
  return Object.freeze({
    featureId: requirement.featureId,
    requestedUsage: requirement.requestedUsage as number | undefined,
    requestedValues: requirement.requestedValues as readonly string[] | undefined,
    resource: undefined,
    statusMapping: undefined,
    onDenied: undefined,
    reportWhen: undefined,
    onAbort: undefined,
  });
}

/**
 * Enforces the `@RequireFeature(featureId, usage?)` metadata of a controller method (or its class)
 * before the handler runs: resolves the customer from the ExecutionContext (none: 401), reserves the
 * usage and throws an EntitlementProblemException (402/403/503 problem+json) on a denial. The
 * reservation is committed when the response finishes with a status < 400, released otherwise.
 *
 * Requirements whose usage, customer or resource is a function of the method's arguments cannot be
 * checked before pipes ran; the method's own wrapper checks those when it is called, inside the
 * request context StiggInterceptor enters. Either way each feature is checked once per request.
 */
@Injectable()
export class StiggGuard implements CanActivate {
  private readonly plans = new WeakMap<object, Plan>();

  constructor(@Inject(STIGG_CONFIG) private readonly config: StiggNestConfig) {}

  canActivate(executionContext: ExecutionContext): boolean | Promise<boolean> {
    if (executionContext.getType() !== 'http') return true;
    const handler = executionContext.getHandler();
    const plan = this.planOf(executionContext.getClass(), handler);
    if (plan.routes.length === 0) return true;
    const context = contextOf(this.config, executionContext);
    // Registered twice (globally and with @UseGuards): the first run already holds the units.
    if (context.enforcedFeatures(handler) !== undefined) return true;
    context.markEnforced(handler, plan.features);
    const done = this.evaluateFrom(context, plan, 0);
    if (isThenable(done)) return done.then(() => this.proceed(context, executionContext));
    return this.proceed(context, executionContext);
  }

  /** The handler runs unless the client already left (its units are given back then). */
  private proceed(context: NestRequestContext, executionContext: ExecutionContext): boolean {
    const res = rawResponse(executionContext.switchToHttp().getResponse());
    if (res === undefined) return true;
    if (isResponseGone(res)) {
      context.releaseAll();
      return false;
    }
    context.settleWhenDone(res);
    return true;
  }

  private planOf(controller: object, handler: object): Plan {
    const version = metadataVersion();
    const cached = this.plans.get(handler);
    if (cached !== undefined && cached.version === version) return cached;
    const name = (handler as { name?: unknown }).name;
    const requirements = typeof name === 'string' && name !== '' ? getFeatureRequirements(controller, name) : [];
    const checked = requirements.filter(checkable);
    const plan: Plan = {
      version,
      routes: checked.map(routeOf),
      features: new Set(checked.map((requirement) => requirement.featureId)),
    };
    this.plans.set(handler, plan);
    return plan;
  }

  /** Evaluates plan.routes[index…] in order; anything but a grant releases what this request already holds. */
  private evaluateFrom(context: NestRequestContext, plan: Plan, index: number): MaybePromise<void> {
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
            this.take(context, value);
            return this.evaluateFrom(context, plan, i + 1);
          },
          (error: unknown) => {
            context.releaseAll();
            throw error;
          },
        );
      }
      this.take(context, outcome);
    }
    return undefined;
  }

  private take(context: NestRequestContext, outcome: Outcome): void {
    if (outcome.kind === 'granted') {
      // Only metered grants hold units; a boolean grant has nothing to commit or release.
      if (outcome.lease.decision.metered) context.hold(outcome.lease);
      return;
    }
    context.releaseAll();
    if (outcome.kind === 'denied') {
      releaseQuietly(outcome.lease, this.config.logger);
      throw new EntitlementProblemException(outcome.problem);
    }
    throw new EntitlementProblemException(outcome.problem, outcome.retryAfterSeconds);
  }
}
