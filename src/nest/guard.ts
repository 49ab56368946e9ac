import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { EntitlementUnavailableError, MISCONFIGURATION_REASONS, statusForReason } from '../core/errors';
import { isThenable } from '../core/maybe-promise';
import type { AccessDeniedReason, Decision, Lease, MaybePromise } from '../core/types';
import { getFeatureRequirements, metadataVersion } from '../decorators/metadata';
import type { FeatureRequirement } from '../decorators/types';
import { deniedProblem, noCustomerProblem, unavailableProblem } from '../middleware/problem';
import { EntitlementProblemException, rawResponse } from './exception';
import type { StiggNestConfig } from './options';
import { contextOf, type NestRequestContext } from './request-context';
import { STIGG_CONFIG } from './tokens';

/** What the guard checks for one handler, computed once per handler (and again after new metadata). */
interface Plan {
  readonly version: number;
  /** Requirements the guard can check before the arguments exist: a constant usage, no per-argument customer or resource. */
  readonly checked: readonly FeatureRequirement[];
  readonly features: ReadonlySet<string>;
}

const NO_PLAN: Plan = Object.freeze({ version: -1, checked: [], features: new Set<string>() });

function checkable(requirement: FeatureRequirement): boolean {
  return typeof requirement.requestedUsage !== 'function' && requirement.customer === undefined && requirement.resource === undefined;
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
    if (plan.checked.length === 0) return true;
    const context = contextOf(this.config, executionContext);
    // Registered twice (globally and with @UseGuards): the first run already holds the units.
    if (context.enforcedFeatures(handler) !== undefined) return true;
    context.markEnforced(handler, plan.features);
    const customerId = context.customerId();
    const granted = isThenable(customerId)
      ? customerId.then((id) => this.acquireAll(context, plan, id))
      : this.acquireAll(context, plan, customerId);
    if (isThenable(granted)) return granted.then(() => this.held(context, executionContext));
    return this.held(context, executionContext);
  }

  private held(context: NestRequestContext, executionContext: ExecutionContext): boolean {
    const res = rawResponse(executionContext.switchToHttp().getResponse());
    if (res !== undefined) context.settleWhenDone(res);
    return true;
  }

  private planOf(controller: object, handler: object): Plan {
    const version = metadataVersion();
    const cached = this.plans.get(handler);
    if (cached !== undefined && cached.version === version) return cached;
    const name = (handler as { name?: unknown }).name;
    const requirements = typeof name === 'string' && name !== '' ? getFeatureRequirements(controller, name) : [];
    const checked = requirements.filter(checkable);
    const plan = checked.length === 0 ? { ...NO_PLAN, version } : { version, checked, features: new Set(checked.map((r) => r.featureId)) };
    this.plans.set(handler, plan);
    return plan;
  }

  private acquireAll(context: NestRequestContext, plan: Plan, customerId: string | undefined): MaybePromise<void> {
    const first = plan.checked[0] as FeatureRequirement;
    if (customerId === undefined) throw new EntitlementProblemException(noCustomerProblem(first.featureId));
    const resourceId = context.resourceId();
    if (isThenable(resourceId)) return resourceId.then((id) => this.acquireFrom(context, plan, customerId, id, 0));
    return this.acquireFrom(context, plan, customerId, resourceId, 0);
  }

  /** Acquires plan.checked[index…] in order; a denial releases what this request already holds. */
  private acquireFrom(context: NestRequestContext, plan: Plan, customerId: string, resourceId: string | undefined, index: number): MaybePromise<void> {
    for (let i = index; i < plan.checked.length; i += 1) {
      const requirement = plan.checked[i] as FeatureRequirement;
      const entitlements = requirement.entitlements ?? context.entitlements;
      let lease: MaybePromise<Lease>;
      try {
        lease = entitlements.acquire({ customerId, resourceId, featureId: requirement.featureId, requestedUsage: requirement.requestedUsage as number | undefined });
      } catch (error) {
        this.fail(context, error);
      }
      if (isThenable(lease)) {
        return lease.then(
          (value) => {
            this.take(context, value);
            return this.acquireFrom(context, plan, customerId, resourceId, i + 1);
          },
          (error: unknown) => this.fail(context, error),
        );
      }
      this.take(context, lease);
    }
    return undefined;
  }

  private take(context: NestRequestContext, lease: Lease): void {
    const decision = lease.decision;
    if (decision.granted) {
      // Only metered grants hold units; a boolean grant has nothing to commit or release.
      if (decision.metered) context.hold(lease);
      return;
    }
    context.releaseAll();
    const reason = decision.accessDeniedReason ?? 'Unknown';
    if (MISCONFIGURATION_REASONS.has(reason)) this.warnOnce(decision, reason);
    const status = this.config.statusMapping?.[reason] ?? statusForReason(reason);
    throw new EntitlementProblemException(deniedProblem(decision, status));
  }

  private fail(context: NestRequestContext, error: unknown): never {
    context.releaseAll();
    if (error instanceof EntitlementUnavailableError) {
      throw new EntitlementProblemException(unavailableProblem(error.featureId, error.retryAfterSeconds), error.retryAfterSeconds, error);
    }
    throw error;
  }

  private warnOnce(decision: Decision, reason: AccessDeniedReason): void {
    const key = `${decision.featureId}\0${reason}`;
    if (this.config.warned.has(key)) return;
    this.config.warned.add(key);
    this.config.logger.warn(
      { featureId: decision.featureId, accessDeniedReason: reason },
      `stigg-gate: feature "${decision.featureId}" was denied with ${reason}, which usually means a misconfiguration (check the feature id and its type in Stigg). Logged once per feature and reason.`,
    );
  }
}
