import type { ServerResponse } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';
import type { Lease } from '../core/types';
import { RequestGate, releaseQuietly, settle } from '../middleware/gate';
import type { StiggNestConfig } from './options';

/**
 * One per request: the shared gate (customer and resource resolved lazily, at most once, ids checked
 * as in Express and Koa; HEAD checks without consuming), what the guard reserved, and the
 * AsyncLocalStorage context the interceptor enters so that decorated provider methods find the customer.
 */
export class NestRequestContext extends RequestGate<ExecutionContext, never> {
  /** The handler the guard enforced, and the features it enforced for it. */
  private handler: object | undefined;
  private features: ReadonlySet<string> | undefined;
  private leases: Lease[] | undefined;
  private settling = false;

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

  /** The handler failed (or a later check denied): the reserved units are usable again at once. */
  releaseAll(): void {
    for (const lease of this.leases ?? []) releaseQuietly(lease, this.config.logger);
  }

  /**
   * Commit the held leases when the response finished with a status reportWhen accepts, release them
   * on any other status or when the client went away first. Node emits 'close' on every response
   * (after 'finish', or alone on a disconnect), so one listener settles every case, streams included.
   */
  settleWhenDone(res: ServerResponse): void {
    if (this.settling || this.leases === undefined) return;
    this.settling = true;
    const { reportWhen, logger } = this.config;
    const leases = this.leases;
    const settleAll = () => {
      for (const lease of leases) settle(lease, res.writableFinished, res.statusCode, reportWhen, logger);
    };
    if (res.destroyed) settleAll();
    else res.once('close', settleAll);
  }
}

const contexts = new WeakMap<object, NestRequestContext>();

/** The request's context, shared by the guard and the interceptor (keyed by the platform's request object). */
export function contextOf(config: StiggNestConfig, executionContext: ExecutionContext): NestRequestContext {
  if (executionContext.getType() !== 'http') return new NestRequestContext(config, executionContext);
  const request = executionContext.switchToHttp().getRequest<{ method?: unknown }>();
  let context = contexts.get(request);
  if (context === undefined) {
    context = new NestRequestContext(
      config,
      executionContext,
      typeof request.method === 'string' ? request.method : undefined,
    );
    contexts.set(request, context);
  }
  return context;
}
