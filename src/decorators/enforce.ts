import {
  currentRequestContext,
  type RequestContext,
  EntitlementDeniedError,
  InvalidUsageError,
  MissingCustomerError,
  InvalidIdError,
  idProblem,
} from '../core';
import type { Entitlements, Lease } from '../core';
import { valuesProblem } from '../core/internal';
import { describeValue as describe } from '../util/describe-value';
import { isThenable, noop } from '../util/maybe-promise';
import { isSignedUnitCount, isUnitCount } from '../util/unit-count';
import { exposed } from '../middleware/problem';
import type { DecoratorScopeOptions, FeatureRequirement, UsageReportSpec } from './types';
import { label, specsOf, type WrapperState } from './state';

interface Scope {
  entitlements: Entitlements;
  customerId: string;
  resourceId: string | undefined;
}

/** Trimmed and checked as the middleware checks them: a blank id must not reach Stigg (it would count as an outage). */
function checkId(value: unknown, what: 'customer' | 'resource', featureId: string, state: WrapperState): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new TypeError(`The ${what} resolved for feature "${featureId}" in ${label(state)} must be a string; got ${describe(value)}`);
  }
  const problem = idProblem(value);
  if (problem !== undefined)
    throw exposed(Object.assign(new InvalidIdError(`${what}Id`, problem, `feature "${featureId}" in ${label(state)}`), { featureId }));
  return value;
}

type Spec = FeatureRequirement | UsageReportSpec;

/** The entitlements and customer for one spec: the decorator's options first, then the request context. */
function resolveScope(
  spec: Spec,
  state: WrapperState,
  thisArg: unknown,
  args: unknown[],
  context: RequestContext | undefined,
): Scope | PromiseLike<Scope> {
  const fromOption: unknown = spec.customer?.apply(thisArg, args);
  if (isThenable(fromOption)) {
    return Promise.resolve(fromOption).then(function withOptionCustomer(value) {
      return resolveFromContext(spec, state, thisArg, args, context, value);
    });
  }
  return resolveFromContext(spec, state, thisArg, args, context, fromOption);
}

function resolveFromContext(
  spec: Spec,
  state: WrapperState,
  thisArg: unknown,
  args: unknown[],
  context: RequestContext | undefined,
  fromOption: unknown,
): Scope | PromiseLike<Scope> {
  const customerId = checkId(fromOption, 'customer', spec.featureId, state);
  if (customerId !== undefined || context === undefined) return completeScope(spec, state, thisArg, args, context, customerId, false);
  const fromContext = context.customerId();
  if (isThenable(fromContext)) {
    return Promise.resolve(fromContext).then(function withContextCustomer(value) {
      return completeScope(spec, state, thisArg, args, context, checkId(value, 'customer', spec.featureId, state), true);
    });
  }
  return completeScope(spec, state, thisArg, args, context, checkId(fromContext, 'customer', spec.featureId, state), true);
}

function completeScope(
  spec: Spec,
  state: WrapperState,
  thisArg: unknown,
  args: unknown[],
  context: RequestContext | undefined,
  customerId: string | undefined,
  contextCustomer: boolean,
): Scope | PromiseLike<Scope> {
  const { featureId } = spec;
  if (customerId === undefined) throw exposed(new MissingCustomerError(featureId, label(state), context !== undefined));
  const entitlements = spec.entitlements ?? context?.entitlements;
  if (!entitlements) {
    throw new TypeError(
      `No entitlements instance for feature "${featureId}" in ${label(state)}: pass { entitlements } in the decorator's options, ` +
        `or call it inside a request handled by stigg() or inside withCustomer({ entitlements, customerId }, fn).`,
    );
  }
  const resource: unknown = spec.resource ? spec.resource.apply(thisArg, args) : contextCustomer ? context?.resourceId() : undefined;
  if (isThenable(resource)) {
    return Promise.resolve(resource).then(function withResource(value): Scope {
      return { entitlements, customerId, resourceId: checkId(value, 'resource', featureId, state) };
    });
  }
  return { entitlements, customerId, resourceId: checkId(resource, 'resource', featureId, state) };
}

function sameScopeOptions(a: DecoratorScopeOptions, b: DecoratorScopeOptions): boolean {
  return a.customer === b.customer && a.resource === b.resource && a.entitlements === b.entitlements;
}

/**
 * What a usage (or values) function throws when the request lacks what it reads (`body.count` of no
 * body): on a route's handler, whose arguments are the request's, the client's mistake (400, as the
 * middleware answers it), with the error as its cause. Any other error, and any error of a method
 * whose arguments the app passed, stays the app's.
 */
function inputFailure(
  error: unknown,
  fromRequest: boolean,
  featureId: string,
  state: WrapperState,
  field: 'usage' | 'requestedValues',
): unknown {
  if (!fromRequest || !(error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError)) return error;
  const expected = field === 'usage' ? 'a finite number >= 0 (its function threw)' : 'could not be read from the request';
  return exposed(Object.assign(new InvalidUsageError(featureId, label(state), undefined, expected, 400, field), { cause: error }));
}

function requestedUsageOf(
  requirement: FeatureRequirement,
  state: WrapperState,
  thisArg: unknown,
  args: unknown[],
  fromRequest: boolean,
): number | undefined | PromiseLike<number> {
  const { requestedUsage, featureId } = requirement;
  if (typeof requestedUsage !== 'function') return requestedUsage;
  function validUsage(usage: unknown): number {
    if (!isUnitCount(usage)) {
      throw exposed(new InvalidUsageError(featureId, label(state), usage, 'a number >= 0, at most Number.MAX_SAFE_INTEGER'));
    }
    return usage;
  }
  function failed(error: unknown): never {
    throw inputFailure(error, fromRequest, featureId, state, 'usage');
  }
  let usage: unknown;
  try {
    usage = requestedUsage.apply(thisArg, args);
  } catch (error) {
    failed(error);
  }
  return isThenable(usage) ? Promise.resolve(usage).then(validUsage, failed) : validUsage(usage);
}

function requestedValuesOf(
  requirement: FeatureRequirement,
  state: WrapperState,
  thisArg: unknown,
  args: unknown[],
  fromRequest: boolean,
): readonly string[] | undefined | PromiseLike<readonly string[]> {
  const { requestedValues, featureId } = requirement;
  if (typeof requestedValues !== 'function') return requestedValues;
  function validValues(values: unknown): readonly string[] {
    const problem = valuesProblem(values);
    if (problem !== undefined) throw exposed(new InvalidUsageError(featureId, label(state), values, problem, 400, 'requestedValues'));
    return values as readonly string[];
  }
  function failed(error: unknown): never {
    throw inputFailure(error, fromRequest, featureId, state, 'requestedValues');
  }
  let values: unknown;
  try {
    values = requestedValues.apply(thisArg, args);
  } catch (error) {
    failed(error);
  }
  return isThenable(values) ? Promise.resolve(values).then(validValues, failed) : validValues(values);
}

/** Never masks the error being rethrown: a reservation that failed to release expires on its own (reservationTtlMs). */
function releaseAll(leases: Lease[]): void {
  for (const lease of leases) {
    try {
      lease.release();
    } catch {
      continue;
    }
  }
}

/**
 * The method completed: each lease reports its reservation, or what its requirement's settle option
 * says the call used. A settle option that fails or answers no valid count reports the reservation
 * (the work was done) and the call rejects with InvalidUsageError (500).
 */
function settleAll(
  leases: Lease[],
  requirements: readonly FeatureRequirement[],
  state: WrapperState,
  thisArg: unknown,
  result: unknown,
  args: unknown[],
): void {
  let failure: { error: unknown } | undefined;
  for (const [index, lease] of leases.entries()) {
    const settle = requirements[index]?.settle;
    try {
      if (settle === undefined) {
        lease.commit();
        continue;
      }
      let units: unknown;
      try {
        units = settle.call(thisArg, result, ...args);
        // An async settle is no count (the reservation is reported); its rejection must not go
        // unhandled, which ends a Node process: the call's InvalidUsageError says it failed.
        if (isThenable(units)) units.then(undefined, noop);
        lease.settle(units as number);
      } catch {
        lease.commit();
        throw new InvalidUsageError(
          lease.decision.featureId,
          label(state),
          units,
          'a finite number >= 0 from settle (the method completed; its reservation was reported)',
          500,
        );
      }
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

/** An async iterator or an Observable: its work runs after the method returned. */
function isLazy(result: unknown): boolean {
  if (typeof result !== 'object' || result === null) return false;
  const lazy = result as { [Symbol.asyncIterator]?: unknown; subscribe?: unknown; pipe?: unknown };
  return typeof lazy[Symbol.asyncIterator] === 'function' || (typeof lazy.subscribe === 'function' && typeof lazy.pipe === 'function');
}

function lazyResult(state: WrapperState): TypeError {
  return new TypeError(
    `${label(state)} returned an async iterator or an Observable: its work runs after the method returned, so @RequireFeature cannot tell work done from work that failed. Return a promise of the result (collect the stream inside the method, or gate the method that consumes it); the reservation was released.`,
  );
}

/**
 * What a decorated method's wrapper runs. The request's handler whose every requirement its framework
 * already enforced (the Nest guard), with nothing to report, is the method itself: no promise of ours
 * around it, whose every turn costs each request the AsyncLocalStorage hooks. Anything else: invoke().
 */
export function enforce(state: WrapperState, thisArg: unknown, args: unknown[]): unknown {
  const { requirements, reports } = specsOf(state);
  const context = currentRequestContext();
  if (reports.length === 0 && requirements.length > 0) {
    const enforced = context?.enforcedFeatures?.(state.wrapper);
    if (enforced !== undefined && coversAll(enforced, requirements)) return state.original.apply(thisArg, args);
  }
  return invoke(state, thisArg, args, context);
}

function coversAll(enforced: ReadonlySet<string>, requirements: readonly FeatureRequirement[]): boolean {
  for (const requirement of requirements) if (!enforced.has(requirement.featureId)) return false;
  return true;
}

/**
 * The one place the decorators' metadata is enforced: resolve the customer, acquire every required
 * feature (denied → EntitlementDeniedError, the method does not run), run the method, then commit
 * (success) or release (throw/reject), and queue the @ReportUsage reports. Awaits only real promises,
 * so a cached decision on the memory store adds no turn of the event loop.
 */
async function invoke(state: WrapperState, thisArg: unknown, args: unknown[], context: RequestContext | undefined): Promise<unknown> {
  const { requirements: declared, reports, original } = state;
  const enforced = declared.length === 0 ? undefined : context?.enforcedFeatures?.(state.wrapper);
  const requirements = enforced === undefined ? declared : declared.filter((requirement) => !enforced.has(requirement.featureId));
  const needed = requirements.length;
  const count = needed + reports.length;
  const scopes: Scope[] = [];
  let previous: Spec | undefined;
  for (let i = 0; i < count; i += 1) {
    const spec = (i < needed ? requirements[i] : reports[i - needed]) as Spec;
    if (previous !== undefined && sameScopeOptions(previous, spec)) {
      scopes.push(scopes[i - 1] as Scope);
    } else {
      const resolved = resolveScope(spec, state, thisArg, args, context);
      scopes.push(isThenable(resolved) ? await resolved : resolved);
    }
    previous = spec;
  }

  const leases: Lease[] = [];
  try {
    for (let i = 0; i < needed; i += 1) {
      const requirement = requirements[i] as FeatureRequirement;
      const { entitlements, customerId, resourceId } = scopes[i] as Scope;
      const usage = requestedUsageOf(requirement, state, thisArg, args, enforced !== undefined);
      const values = requestedValuesOf(requirement, state, thisArg, args, enforced !== undefined);
      const acquired = entitlements.acquire({
        customerId,
        resourceId,
        featureId: requirement.featureId,
        requestedUsage: isThenable(usage) ? await usage : usage,
        requestedValues: isThenable(values) ? await values : values,
        mode: requirement.mode,
      });
      const lease = isThenable(acquired) ? await acquired : acquired;
      leases.push(lease);
      if (!lease.decision.granted) throw exposed(new EntitlementDeniedError(lease.decision));
    }
    // The request's handler, decided after its client left (a usage function of the request): not run.
    const gone = needed > 0 && enforced !== undefined ? context?.clientGone?.() : undefined;
    if (gone !== undefined) throw gone;
  } catch (error) {
    releaseAll(leases);
    throw error;
  }

  let result: unknown;
  try {
    result = original.apply(thisArg, args);
    // Outside a framework's handler (whose response settles it), the method's return is its work done.
    if (needed > 0 && enforced === undefined && isLazy(result)) throw lazyResult(state);
    if (isThenable(result)) result = await result;
  } catch (error) {
    releaseAll(leases);
    throw error;
  }
  settleAll(leases, requirements, state, thisArg, result, args);

  if (reports.length > 0) {
    const reported = reportUsage(reports, scopes.slice(needed), state, thisArg, result, args);
    if (reported) await reported;
  }
  return result;
}

function reportUsage(
  reports: readonly UsageReportSpec[],
  scopes: Scope[],
  state: WrapperState,
  thisArg: unknown,
  result: unknown,
  args: unknown[],
): void | Promise<void> {
  const values = reports.map(function valueOf(report) {
    const value: unknown = typeof report.value === 'function' ? report.value.call(thisArg, result, ...args) : report.value;
    if (isThenable(value)) value.then(undefined, noop); // no count (below), and a rejection must not go unhandled
    if (!isSignedUnitCount(value)) {
      throw new InvalidUsageError(
        report.featureId,
        label(state),
        value,
        'a number within ±Number.MAX_SAFE_INTEGER (the method completed; no usage was reported)',
        500,
      );
    }
    return value;
  });
  const pending: PromiseLike<void>[] = [];
  for (const [index, report] of reports.entries()) {
    const value = values[index] as number;
    const { entitlements, customerId, resourceId } = scopes[index] as Scope;
    if (value === 0) continue;
    const queued = entitlements.report({ customerId, resourceId, featureId: report.featureId, value });
    if (isThenable(queued)) pending.push(queued);
  }
  if (pending.length > 0) return Promise.all(pending).then(function reported() {});
  return undefined;
}
