import { requestContextStorage, type RequestContext } from '../core/context';
import type { Entitlements } from '../core/types';
import { describeValue as describe } from '../core/errors';
import { isEntitlementsLike } from './validate';

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
  const { entitlements, customerId, resourceId } = scope;
  if (!isEntitlementsLike(entitlements)) {
    throw new TypeError(`withCustomer: entitlements must be the instance createEntitlements() returned; got ${describe(entitlements)}.`);
  }
  if (typeof customerId !== 'string' || customerId === '') {
    throw new TypeError(`withCustomer: ${describe(customerId)} is not a valid customerId. Please pass the Stigg customer id as a non-empty string.`);
  }
  if (resourceId !== undefined && (typeof resourceId !== 'string' || resourceId === '')) {
    throw new TypeError(`withCustomer: ${describe(resourceId)} is not a valid resourceId. Please pass a non-empty string, or leave it out.`);
  }
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
