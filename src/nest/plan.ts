import type { ExecutionContext } from '@nestjs/common';
import { getFeatureRequirements, metadataVersion } from '../decorators/metadata';
import type { FeatureRequirement } from '../decorators/types';
import type { RouteConfig } from '../middleware/gate';
import type { NestDeniedHandler } from './options';
import { SKIP_ENTITLEMENTS_METADATA } from './skip';

export type Route = RouteConfig<ExecutionContext, NestDeniedHandler>;

/** What the guard and the interceptor do for one handler, computed once per handler (and again after new metadata). */
export interface Plan {
  readonly version: number;
  /** @SkipEntitlements() on the handler or its class: nothing of the handler's own requirements is checked. */
  readonly skip: boolean;
  /** Requirements the guard can check before the arguments exist: a constant usage, no customer/resource/entitlements/settle option of their own. */
  readonly routes: readonly Route[];
  /** The features of `routes`: the handler's @RequireFeature wrapper does not acquire them again. */
  readonly features: ReadonlySet<string>;
  /** Every feature the handler requires (what @SkipEntitlements() tells its wrapper to leave alone). */
  readonly allFeatures: ReadonlySet<string>;
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
    mode: requirement.mode,
  });
}

function skipped(target: object): boolean {
  return Reflect.getMetadata(SKIP_ENTITLEMENTS_METADATA, target) === true;
}

const plans = new WeakMap<object, Plan>();

/** The plan of a controller's handler (the function Nest routes to: the @RequireFeature wrapper when there is one). */
export function planOf(controller: object, handler: object): Plan {
  const version = metadataVersion();
  const cached = plans.get(handler);
  if (cached !== undefined && cached.version === version) return cached;
  const name = (handler as { name?: unknown }).name;
  const requirements = typeof name === 'string' && name !== '' ? getFeatureRequirements(controller, name) : [];
  const skip = skipped(handler) || skipped(controller);
  const checked = skip ? [] : requirements.filter(checkable);
  const plan: Plan = {
    version,
    skip,
    routes: checked.map(routeOf),
    features: new Set(checked.map((requirement) => requirement.featureId)),
    allFeatures: new Set(requirements.map((requirement) => requirement.featureId)),
  };
  plans.set(handler, plan);
  return plan;
}
