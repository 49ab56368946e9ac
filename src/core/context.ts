import { AsyncLocalStorage } from 'node:async_hooks';
import type { Entitlements } from './types';

/** What stigg() (or withCustomer()) makes available to code running inside a request or a job. */
export interface RequestContext {
  readonly entitlements: Entitlements;
  /** Resolves (once per context) the customer; undefined when there is none. */
  customerId(): string | undefined | Promise<string | undefined>;
  resourceId(): string | undefined | Promise<string | undefined>;
  /**
   * Features a framework already enforced for `method` in this request (the NestJS guard, for the
   * route's handler): that method's @RequireFeature wrapper does not acquire them a second time.
   */
  enforcedFeatures?(method: object): ReadonlySet<string> | undefined;
}

/**
 * An active AsyncLocalStorage makes every await in the process slower, so stigg() only enters it
 * once something that reads it (stigg-gate/decorators) was loaded and called enableRequestContext().
 */
let enabled = false;
export const requestContextStorage = new AsyncLocalStorage<RequestContext>();

export function enableRequestContext(): void {
  enabled = true;
}

export function isRequestContextEnabled(): boolean {
  return enabled;
}

export function currentRequestContext(): RequestContext | undefined {
  return enabled ? requestContextStorage.getStore() : undefined;
}
