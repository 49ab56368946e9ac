import type { AsyncLocalStorage } from 'node:async_hooks';
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
   * Defined only for the request's handler, whose arguments come from the request: a usage function
   * failing on them (TypeError…) is then the client's 400, as in the middleware.
   */
  enforcedFeatures?(method: object): ReadonlySet<string> | undefined;
  /**
   * For the request's handler (see enforcedFeatures): when its client has left, the error its
   * @RequireFeature wrapper throws instead of running the method, once it gave back what it acquired
   * (the rule "a client gone before the decision: the handler never runs"); undefined while it is there.
   */
  clientGone?(): Error | undefined;
}

/**
 * An active AsyncLocalStorage makes every await in the process slower, so stigg() only enters it
 * once something that reads it (stigg-gate/decorators) was loaded and called enableRequestContext().
 * node:async_hooks is loaded then, not before: the root entry loads no node: module (edge runtimes).
 */
let enabled = false;
let storage: AsyncLocalStorage<RequestContext> | undefined;

type StorageClass = typeof import('node:async_hooks').AsyncLocalStorage;

/**
 * process.getBuiltinModule (Node >= 20.16) rather than require: bundlers for edge runtimes never
 * see the module, and the ESM build needs no require. Workers with nodejs_als expose the class globally.
 */
function storageClass(): StorageClass {
  const scope = globalThis as { process?: { getBuiltinModule?(id: string): unknown }; AsyncLocalStorage?: StorageClass };
  const hooks = scope.process?.getBuiltinModule?.('node:async_hooks') as { AsyncLocalStorage: StorageClass } | undefined;
  const found = hooks?.AsyncLocalStorage ?? scope.AsyncLocalStorage;
  if (found === undefined) {
    throw new Error(
      'The request context (stigg-gate/decorators) needs AsyncLocalStorage: Node >= 20.16, or a runtime with node:async_hooks.',
    );
  }
  return found;
}

function alsOf(): AsyncLocalStorage<RequestContext> {
  if (storage === undefined) storage = new (storageClass())<RequestContext>();
  return storage;
}

/** The request context's storage; node:async_hooks is loaded on the first run(). */
export const requestContextStorage = {
  run<R>(context: RequestContext, fn: () => R): R {
    return alsOf().run(context, fn);
  },
  getStore(): RequestContext | undefined {
    return storage?.getStore();
  },
};

const onEnable: Array<() => void> = [];

export function enableRequestContext(): void {
  alsOf();
  if (enabled) return;
  enabled = true;
  for (const callback of onEnable.splice(0)) callback();
}

/**
 * Runs `callback` once enableRequestContext() is called, when it was not called yet: adapters that
 * enter the context from a per-request hook only register that hook when it is needed, and say so
 * when the decorators arrive too late for it.
 */
export function afterRequestContextEnabled(callback: () => void): void {
  if (!enabled) onEnable.push(callback);
}

export function isRequestContextEnabled(): boolean {
  return enabled;
}

export function currentRequestContext(): RequestContext | undefined {
  return enabled ? alsOf().getStore() : undefined;
}
