import type { ServerResponse } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';
import type { RequestContext } from '../core/context';
import { describeValue } from '../core/errors';
import { isThenable } from '../core/maybe-promise';
import type { Entitlements, Lease, MaybePromise } from '../core/types';
import type { ContextResolver, StiggNestConfig } from './options';

function normalizeId(kind: 'customer' | 'resource', value: string | undefined | null): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new TypeError(`The ${kind} resolver given to StiggModule returned ${describeValue(value)}; it must return a string id, or undefined when there is none.`);
  }
  return value;
}

/**
 * One per request: what the guard reserved, and the AsyncLocalStorage context the interceptor
 * enters so that decorated service methods find the customer. Resolvers run lazily, at most once.
 */
export class NestRequestContext implements RequestContext {
  readonly entitlements: Entitlements;
  private customer: MaybePromise<string | undefined> | null = null;
  private resource: MaybePromise<string | undefined> | null = null;
  /** The handler the guard enforced, and the features it enforced for it. */
  private handler: object | undefined;
  private features: ReadonlySet<string> | undefined;
  private leases: Lease[] | undefined;
  private settling = false;

  constructor(
    readonly config: StiggNestConfig,
    private readonly executionContext: ExecutionContext,
  ) {
    this.entitlements = config.entitlements;
  }

  customerId(): MaybePromise<string | undefined> {
    this.customer ??= this.resolve('customer', this.config.customer);
    return this.customer;
  }

  resourceId(): MaybePromise<string | undefined> {
    if (this.config.resource === undefined) return undefined;
    this.resource ??= this.resolve('resource', this.config.resource);
    return this.resource;
  }

  private resolve(kind: 'customer' | 'resource', resolver: ContextResolver | undefined): MaybePromise<string | undefined> {
    if (resolver === undefined) return undefined;
    const value = resolver(this.executionContext);
    return isThenable(value) ? value.then((id) => normalizeId(kind, id)) : normalizeId(kind, value);
  }

  enforcedFeatures(method: object): ReadonlySet<string> | undefined {
    return method === this.handler ? this.features : undefined;
  }

  /** The guard checked `features` for `handler`: its @RequireFeature wrapper must not acquire them again. */
  markEnforced(handler: object, features: ReadonlySet<string>): void {
    this.handler = handler;
    this.features = features;
  }

  hold(lease: Lease): void {
    (this.leases ??= []).push(lease);
  }

  /** The handler failed: the reserved units are usable again at once, and nothing will be reported. */
  releaseAll(): void {
    const leases = this.leases;
    if (leases === undefined) return;
    for (const lease of leases) {
      try {
        lease.release();
      } catch (error) {
        this.config.logger.error({ featureId: lease.decision.featureId, error }, 'stigg-gate: releasing a reservation failed; it expires with reservationTtlMs');
      }
    }
  }

  /**
   * Commit the held leases when the response finished with a status reportWhen accepts, release them
   * on any other status or when the client went away first. Node emits 'close' on every response
   * (after 'finish', or alone on a disconnect), so one listener settles every case, streams included.
   */
  settleWhenDone(res: ServerResponse): void {
    if (this.settling || this.leases === undefined) return;
    this.settling = true;
    res.once('close', () => {
      const commit = res.writableFinished && this.config.reportWhen(res.statusCode);
      for (const lease of this.leases ?? []) this.settle(lease, commit);
    });
  }

  private settle(lease: Lease, commit: boolean): void {
    try {
      if (commit) lease.commit();
      else lease.release();
    } catch (error) {
      this.config.logger.error({ featureId: lease.decision.featureId, error }, 'stigg-gate: settling the usage of a request failed; nothing was reported for it');
      if (commit) {
        try {
          lease.release();
        } catch {
          // The lease is unusable; its reservation expires with reservationTtlMs.
        }
      }
    }
  }
}

const contexts = new WeakMap<object, NestRequestContext>();

/** The request's context, shared by the guard and the interceptor (keyed by the platform's request object). */
export function contextOf(config: StiggNestConfig, executionContext: ExecutionContext): NestRequestContext {
  if (executionContext.getType() !== 'http') return new NestRequestContext(config, executionContext);
  const request = executionContext.switchToHttp().getRequest<object>();
  let context = contexts.get(request);
  if (context === undefined) {
    context = new NestRequestContext(config, executionContext);
    contexts.set(request, context);
  }
  return context;
}
