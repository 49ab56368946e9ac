import { type RequestContext, idProblem } from '../core';
import type { Entitlements } from '../core';
import { requestContextStorage } from '../core/internal';
import { describeValue as describe } from '../util/describe-value';
import { isEntitlementsLike } from './validate';

/** A job's ids are the app's own values, so a bad one is a TypeError at the call, not a 4xx. */
function scopeId(name: 'customerId' | 'resourceId', value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(
      `withCustomer: ${describe(value)} is not a valid ${name}. Please pass the Stigg ${name === 'customerId' ? 'customer' : 'resource'} id as a string.`,
    );
  }
  const problem = idProblem(value);
  if (problem !== undefined) throw new TypeError(`withCustomer: the ${name} ${problem}. Please pass the Stigg id as it is in Stigg.`);
  return value;
}

export interface CustomerScope {
  /** The instance createEntitlements() returned. */
  entitlements: Entitlements;
  /** The Stigg customer id every decorated method called inside the scope is checked against. */
  customerId: string;
  /** The Stigg resource id, for resource-scoped entitlements. */
  resourceId?: string | undefined;
}

/**
 * Runs `fn` with `scope` as its request context, for code outside an HTTP request (jobs, queue
 * consumers, scripts): decorated methods called from `fn`, synchronously or after any number of
 * awaits, are checked against this customer. Returns what `fn` returns. Scopes nest; the innermost wins.
 *
 * ```ts
 * await withCustomer({ entitlements, customerId: job.customerId }, () => templates.create(job.input));
 * ```
 */
export function withCustomer<T>(scope: CustomerScope, fn: () => T): T {
  if (typeof scope !== 'object' || scope === null) {
    throw new TypeError(`withCustomer(scope, fn) needs a scope { entitlements, customerId, resourceId? }; got ${describe(scope)}.`);
  }
  const { entitlements } = scope;
  if (!isEntitlementsLike(entitlements)) {
    throw new TypeError(`withCustomer: entitlements must be the instance createEntitlements() returned; got ${describe(entitlements)}.`);
  }
  const customerId = scopeId('customerId', scope.customerId);
  const resourceId = scope.resourceId === undefined ? undefined : scopeId('resourceId', scope.resourceId);
  if (typeof fn !== 'function') {
    throw new TypeError(`withCustomer(scope, fn): fn must be a function to run inside the scope; got ${describe(fn)}.`);
  }
  const context: RequestContext = Object.freeze({
    entitlements,
    customerId: function scopedCustomerId() {
      return customerId;
    },
    resourceId: function scopedResourceId() {
      return resourceId;
    },
  });
  return requestContextStorage.run(context, fn);
}
