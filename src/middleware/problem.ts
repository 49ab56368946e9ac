import {
  EntitlementDeniedError,
  EntitlementsClosedError,
  EntitlementUnavailableError,
  InvalidUsageError,
  MissingCustomerError,
  type StatusMapping,
  InvalidIdError,
} from '../core';
import type { AccessDeniedReason, Decision } from '../core';
import { valuesProblem } from '../core/internal';

/**
 * RFC 9457 problem details. `type` is a stable URN (`urn:stigg-gate:problem:<kebab-case name>`): it
 * identifies the problem without pretending to be a page someone must host.
 *
 * Each kind of problem has a fixed set of members, and a member without a value is `null`, never
 * missing: a denial always carries featureId, accessDeniedReason, requestedUsage, currentUsage,
 * usageLimit and usagePeriodEnd; the other kinds carry featureId. Members a kind does not have are absent.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  featureId?: string | null;
  /** A reason this version does not know (Stigg added it later) is passed through verbatim. */
  accessDeniedReason?: AccessDeniedReason | (string & {});
  requestedUsage?: number | null;
  currentUsage?: number | null;
  usageLimit?: number | null;
  /** Units left after this request (never below 0); null without a limit. */
  remaining?: number | null;
  usagePeriodEnd?: string | null;
  /** RequestedValuesMismatch: the values asked, and those of them the customer is not entitled to. */
  requestedValues?: readonly string[];
  valuesNotEntitled?: readonly string[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
export const PROBLEM_TYPE_PREFIX = 'urn:stigg-gate:problem:';

const TITLES: Readonly<Record<AccessDeniedReason, string>> = {
  RequestedUsageExceedingLimit: 'Usage limit reached',
  BudgetExceeded: 'Budget exceeded',
  InsufficientCredits: 'Insufficient credits',
  NoActiveSubscription: 'No active subscription',
  NoFeatureEntitlementInSubscription: 'Feature not included in the subscription',
  CustomerNotFound: 'Customer not found',
  CustomerIsArchived: 'Customer is archived',
  CustomerResourceNotFound: 'Resource not found for this customer',
  Revoked: 'Entitlement revoked',
  RequestedValuesMismatch: 'Requested values mismatch',
  FeatureNotFound: 'Feature not found',
  FeatureTypeMismatch: 'Feature type mismatch',
  Unknown: 'Access denied',
};

/** Every AccessDeniedReason, derived from the titles (which the compiler keeps complete). */
export const ACCESS_DENIED_REASONS: ReadonlySet<string> = new Set(Object.keys(TITLES));

/** A reason Stigg added after this version: 403 (statusForReason), a generic title, its own type when it is a plain name. */
export function isKnownReason(reason: string): reason is AccessDeniedReason {
  return ACCESS_DENIED_REASONS.has(reason);
}

const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function problemType(name: string): string {
  return PROBLEM_TYPE_PREFIX + kebab(name);
}

function deniedDetail(decision: Decision, reason: AccessDeniedReason): string {
  const feature = `"${decision.featureId}"`;
  switch (reason) {
    case 'RequestedUsageExceedingLimit': {
      const used = decision.currentUsage === null ? '' : ` (${decision.currentUsage} used)`;
      const limit = decision.usageLimit === null ? 'the limit' : `the limit of ${decision.usageLimit}`;
      const reset = decision.usagePeriodEnd === null ? '' : `; usage resets at ${decision.usagePeriodEnd}`;
      return `Requesting ${decision.requestedUsage} more of feature ${feature} would exceed ${limit}${used}${reset}.`;
    }
    case 'NoActiveSubscription':
      return `The customer has no active subscription that grants feature ${feature}.`;
    case 'NoFeatureEntitlementInSubscription':
      return `The customer's subscription does not include feature ${feature}.`;
    case 'CustomerNotFound':
      return `The customer is not known to Stigg, so feature ${feature} cannot be granted.`;
    case 'CustomerIsArchived':
      return `The customer is archived, so feature ${feature} cannot be granted.`;
    case 'CustomerResourceNotFound':
      return `The resource has no subscription that grants feature ${feature}.`;
    case 'Revoked':
      return `Access to feature ${feature} was revoked.`;
    case 'FeatureNotFound':
      return `Feature ${feature} does not exist in Stigg.`;
    case 'RequestedValuesMismatch':
      return `The customer is not entitled to ${notEntitled(decision)
        .map((value) => JSON.stringify(value))
        .join(', ')} of feature ${feature}.`;
    default:
      return `Access to feature ${feature} was denied (${reason}).`;
  }
}

/** The requested values of an ENUM feature the customer is not entitled to. */
function notEntitled(decision: Decision): string[] {
  const entitled = decision.enumValues ?? [];
  return (decision.requestedValues ?? []).filter((value) => !entitled.includes(value));
}

/** The body for a decision Stigg denied. Every member is present; `?? null` also covers decisions built by another copy of the package. */
export function deniedProblem(decision: Decision, status: number): ProblemDetails {
  const reason: string = decision.accessDeniedReason ?? 'Unknown';
  const known = isKnownReason(reason);
  const problem: ProblemDetails = {
    type: problemType(known || PLAIN_NAME.test(reason) ? reason : 'AccessDenied'),
    title: known ? TITLES[reason] : TITLES.Unknown,
    status,
    detail: deniedDetail(decision, reason as AccessDeniedReason),
    featureId: decision.featureId ?? null,
    accessDeniedReason: reason,
    requestedUsage: decision.requestedUsage ?? null,
    currentUsage: decision.currentUsage ?? null,
    usageLimit: decision.usageLimit ?? null,
    remaining: decision.remaining ?? null,
    usagePeriodEnd: decision.usagePeriodEnd ?? null,
  };
  if (reason === 'RequestedValuesMismatch') {
    problem.requestedValues = decision.requestedValues ?? [];
    problem.valuesNotEntitled = notEntitled(decision);
  }
  return problem;
}

/** 401: the request carries no customer (the app's `customer` resolver returned nothing). */
export function noCustomerProblem(featureId: string): ProblemDetails {
  return {
    type: problemType('NoCustomer'),
    title: 'No customer',
    status: 401,
    detail: `Feature "${featureId}" requires an authenticated customer, and none was found on this request.`,
    featureId,
  };
}

const ID_PROBLEMS = {
  customer: { name: 'InvalidCustomerId', title: 'Invalid customer id', status: 401 },
  resource: { name: 'InvalidResourceId', title: 'Invalid resource id', status: 400 },
} as const;

/**
 * 401 for a customer id, 400 for a resource id that core's idProblem refuses (blank, surrounded by
 * whitespace, too long, control characters). The id itself is never echoed: it may be hostile, or large.
 */
export function invalidIdProblem(kind: 'customer' | 'resource', problem: string, featureId: string | null): ProblemDetails {
  const { name, title, status } = ID_PROBLEMS[kind];
  const feature = featureId === null ? 'so it cannot be checked' : `so feature "${featureId}" cannot be checked`;
  return {
    type: problemType(name),
    title,
    status,
    detail: `The ${kind} id of this request ${problem}, ${feature}.`,
    featureId,
  };
}

/** 400: the ENUM values taken from the request are not a short array of ids. The values are not echoed. */
export function invalidValuesProblem(featureId: string, problem: string): ProblemDetails {
  return {
    type: problemType('InvalidRequestedValues'),
    title: 'Invalid requested values',
    status: 400,
    detail: `The requested values of feature "${featureId}" ${problem}.`,
    featureId,
  };
}

/** 400: the usage taken from the request is not a unit count (a number >= 0, at most Number.MAX_SAFE_INTEGER). */
export function invalidUsageProblem(featureId: string, value: unknown): ProblemDetails {
  const given = typeof value === 'number' ? String(value) : value === null ? 'null' : `a value of type ${typeof value}`;
  return {
    type: problemType('InvalidRequestedUsage'),
    title: 'Invalid requested usage',
    status: 400,
    detail: `The requested usage of feature "${featureId}" must be a number >= 0 and at most ${String(Number.MAX_SAFE_INTEGER)}; the request gave ${given}.`,
    featureId,
  };
}

/** 503: no decision could be made and the policy is fail-closed. */
export function unavailableProblem(featureId: string, retryAfterSeconds: number): ProblemDetails {
  return {
    type: problemType('EntitlementsUnavailable'),
    title: 'Entitlements unavailable',
    status: 503,
    detail: `No entitlement decision could be made for feature "${featureId}"; try again in ${retryAfterSeconds}s.`,
    featureId,
  };
}

/** 503: the entitlements were closed (the process is shutting down); another instance, or this one restarted, will decide. */
export function closedProblem(featureId: string | null, retryAfterSeconds: number): ProblemDetails {
  const feature = featureId === null ? 'Entitlements are' : `Feature "${featureId}" is`;
  return {
    type: problemType('EntitlementsClosed'),
    title: 'Shutting down',
    status: 503,
    detail: `${feature} no longer checked here: this server is shutting down; try again in ${retryAfterSeconds}s.`,
    featureId,
  };
}

/**
 * Koa's default error handler shows the message of an error with `expose` (and prints no stack);
 * Koa and http-errors set it on every 4xx, so the 4xx errors stigg-gate throws carry it too.
 */
export function exposed<E extends Error & { status: number }>(error: E): E {
  if (error.status < 500) Object.defineProperty(error, 'expose', { value: true, enumerable: false, configurable: true, writable: true });
  return error;
}

/** Whole seconds, at least 1, for a Retry-After header. */
export function retryAfterHeader(seconds: number): string {
  return String(Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : 1);
}

/** What decorated methods throw; duck-typed too, so a second copy of the package is still recognised. */
export type RenderableError =
  | EntitlementDeniedError
  | EntitlementUnavailableError
  | EntitlementsClosedError
  | MissingCustomerError
  | InvalidUsageError
  | InvalidIdError;

export function isEntitlementError(error: unknown): error is RenderableError {
  if (
    error instanceof EntitlementDeniedError ||
    error instanceof EntitlementUnavailableError ||
    error instanceof EntitlementsClosedError ||
    error instanceof MissingCustomerError
  ) {
    return true;
  }
  if (error instanceof InvalidIdError) return error.field !== 'featureId';
  if (typeof error !== 'object' || error === null) return false;
  const { name, featureId, status } = error as { name?: unknown; featureId?: unknown; status?: unknown };
  if (name === 'InvalidIdError') {
    const { field, problem } = error as { field?: unknown; problem?: unknown };
    return (field === 'customerId' || field === 'resourceId') && typeof problem === 'string';
  }
  // A reported usage the app computed wrongly (status 500) is the app's bug: the framework handles it.
  if (name === 'InvalidUsageError') return status === 400 && typeof featureId === 'string';
  if (name === 'EntitlementDeniedError') return typeof (error as { decision?: unknown }).decision === 'object';
  if (name === 'EntitlementsClosedError') return typeof (error as { retryAfterSeconds?: unknown }).retryAfterSeconds === 'number';
  const named = name === 'EntitlementUnavailableError' || name === 'MissingCustomerError';
  return named && typeof featureId === 'string';
}

/** The problem for an error thrown by a decorated method; the first mapping that names the reason wins. */
export function errorProblem(
  error: RenderableError,
  ...mappings: Array<StatusMapping | undefined>
): { problem: ProblemDetails; retryAfterSeconds?: number } {
  if (error.name === 'EntitlementUnavailableError') {
    const { featureId, retryAfterSeconds } = error;
    return { problem: unavailableProblem(featureId, retryAfterSeconds), retryAfterSeconds };
  }
  if (error.name === 'EntitlementsClosedError') {
    const { featureId, retryAfterSeconds } = error;
    return { problem: closedProblem(featureId, retryAfterSeconds), retryAfterSeconds };
  }
  if (error.name === 'InvalidIdError') {
    const { field, problem, featureId } = error as InvalidIdError & { featureId?: unknown };
    return {
      problem: invalidIdProblem(
        field === 'customerId' ? 'customer' : 'resource',
        problem,
        typeof featureId === 'string' ? featureId : null,
      ),
    };
  }
  if (error.name === 'MissingCustomerError') return { problem: noCustomerProblem(error.featureId) };
  if (error.name === 'InvalidUsageError') {
    const { featureId, value, field } = error;
    if (field === 'requestedValues') return { problem: invalidValuesProblem(featureId, valuesProblem(value) ?? 'are not valid') };
    return { problem: invalidUsageProblem(featureId, value) };
  }
  const denied = error;
  let status = denied.status;
  for (const mapping of mappings) {
    const mapped = mapping?.[denied.accessDeniedReason];
    if (mapped !== undefined) {
      status = mapped;
      break;
    }
  }
  return { problem: deniedProblem(denied.decision, status) };
}
