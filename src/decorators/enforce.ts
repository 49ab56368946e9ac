import { currentRequestContext, type RequestContext } from '../core/context';
import { EntitlementDeniedError } from '../core/errors';
import type { Entitlements, Lease } from '../core/types';
import { InvalidUsageError, MissingCustomerError, describe } from './errors';
import type { DecoratorScopeOptions, FeatureRequirement, UsageReportSpec } from './types';
import { label, specsOf, type WrapperState } from './wrap';

interface Scope {
  entitlements: Entitlements;
  customerId: string;
  resourceId: string | undefined;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function checkId(value: unknown, what: string, featureId: string, state: WrapperState): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  throw new TypeError(`The ${what} resolved for feature "${featureId}" in ${label(state)} must be a string; got ${describe(value)}`);
}

/** Continues with `next` at once for a plain value, after it settles for a promise: no extra event-loop turn on the sync path. */
function then<R>(value: unknown, next: (value: unknown) => R | PromiseLike<R>): R | PromiseLike<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : next(value);
}

/** The entitlements and customer for one spec: the decorator's options first, then the request context. */
function resolveScope(
  spec: DecoratorScopeOptions & { featureId: string },
  state: WrapperState,
  thisArg: unknown,
  args: unknown[],
  context: RequestContext | undefined,
): Scope | PromiseLike<Scope> {
  const { featureId } = spec;
  return then(spec.customer?.apply(thisArg, args), function withOptionCustomer(fromOption) {
    const customerId = checkId(fromOption, 'customer', featureId, state);
    if (customerId !== undefined || !context) return withCustomerId(customerId);
    return then(context.customerId(), function withContextCustomer(fromContext) {
      return withCustomerId(checkId(fromContext, 'customer', featureId, state));
    });
  });

  function withCustomerId(customerId: string | undefined): Scope | PromiseLike<Scope> {
    if (customerId === undefined) throw new MissingCustomerError(featureId, label(state), context !== undefined);
    const entitlements = spec.entitlements ?? context?.entitlements;
    if (!entitlements) {
      throw new TypeError(
        `No entitlements instance for feature "${featureId}" in ${label(state)}: pass { entitlements } in the decorator's options, ` +
          `or call it inside a request handled by stigg() or inside withCustomer({ entitlements, customerId }, fn).`,
      );
    }
    const resource = spec.resource ? spec.resource.apply(thisArg, args) : context?.resourceId();
    return then(resource, function withResource(value) {
      return { entitlements, customerId: customerId as string, resourceId: checkId(value, 'resource', featureId, state) };
    });
  }
}

function sameScopeOptions(a: DecoratorScopeOptions, b: DecoratorScopeOptions): boolean {
  return a.customer === b.customer && a.resource === b.resource && a.entitlements === b.entitlements;
}

function requestedUsageOf(requirement: FeatureRequirement, state: WrapperState, thisArg: unknown, args: unknown[]): number | undefined | PromiseLike<number> {
  const { requestedUsage, featureId } = requirement;
  if (typeof requestedUsage !== 'function') return requestedUsage;
  return then(requestedUsage.apply(thisArg, args), function validUsage(usage) {
    if (typeof usage !== 'number' || !Number.isFinite(usage) || usage < 0) {
      throw new InvalidUsageError(featureId, label(state), usage, 'a finite number >= 0');
    }
    return usage;
  });
}

function releaseAll(leases: Lease[]): void {
  for (const lease of leases) lease.release();
}

function commitAll(leases: Lease[]): void {
  let failure: { error: unknown } | undefined;
  for (const lease of leases) {
    try {
      lease.commit();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

/**
 * The one place the decorators' metadata is enforced: resolve the customer, acquire every required
 * feature (denied → EntitlementDeniedError, the method does not run), run the method, then commit
 * (success) or release (throw/reject), and queue the @ReportUsage reports. Awaits only real promises,
 * so a cached decision on the memory store adds no turn of the event loop.
 */
export async function invoke(state: WrapperState, thisArg: unknown, args: unknown[]): Promise<unknown> {
  const { requirements, reports, original } = specsOf(state);
  if (requirements.length === 0 && reports.length === 0) return original.apply(thisArg, args);

  const context = currentRequestContext();
  const scopes: Scope[] = [];
  const specs = [...requirements, ...reports];
  for (const [index, spec] of specs.entries()) {
    const previous = specs[index - 1];
    if (previous && sameScopeOptions(previous, spec)) {
      scopes.push(scopes[index - 1] as Scope);
      continue;
    }
    const resolved = resolveScope(spec, state, thisArg, args, context);
    scopes.push(isPromiseLike(resolved) ? await resolved : resolved);
  }

  const leases: Lease[] = [];
  try {
    for (const [index, requirement] of requirements.entries()) {
      const scope = scopes[index] as Scope;
      const usage = requestedUsageOf(requirement, state, thisArg, args);
      const acquired = scope.entitlements.acquire({
        customerId: scope.customerId,
        resourceId: scope.resourceId,
        featureId: requirement.featureId,
        requestedUsage: isPromiseLike(usage) ? await usage : usage,
      });
      const lease = isPromiseLike(acquired) ? await acquired : acquired;
      leases.push(lease);
      if (!lease.decision.granted) throw new EntitlementDeniedError(lease.decision);
    }
  } catch (error) {
    releaseAll(leases);
    throw error;
  }

  let result: unknown;
  try {
    result = original.apply(thisArg, args);
    if (isPromiseLike(result)) result = await result;
  } catch (error) {
    releaseAll(leases);
    throw error;
  }
  commitAll(leases);

  if (reports.length > 0) {
    const reported = reportUsage(reports, scopes.slice(requirements.length), state, thisArg, result, args);
    if (reported) await reported;
  }
  return result;
}

function reportUsage(reports: readonly UsageReportSpec[], scopes: Scope[], state: WrapperState, thisArg: unknown, result: unknown, args: unknown[]): void | Promise<void> {
  const values = reports.map(function valueOf(report) {
    const value: unknown = typeof report.value === 'function' ? report.value.call(thisArg, result, ...args) : report.value;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidUsageError(report.featureId, label(state), value, 'a finite number (the method completed; no usage was reported)');
    }
    return value;
  });
  const pending: PromiseLike<void>[] = [];
  for (const [index, report] of reports.entries()) {
    const value = values[index] as number;
    const { entitlements, customerId, resourceId } = scopes[index] as Scope;
    if (value === 0) continue;
    const queued = entitlements.report({ customerId, resourceId, featureId: report.featureId, value });
    if (isPromiseLike(queued)) pending.push(queued);
  }
  if (pending.length > 0) return Promise.all(pending).then(function reported() {});
  return undefined;
}
