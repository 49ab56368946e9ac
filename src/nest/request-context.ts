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

const kContext = Symbol.for('stigg-gate.nest.context');

type Holder = { [kContext]?: NestRequestContext };

/**
 * Where a request's context lives: Express's res.locals (adding a property to an Express request
 * costs ~2 µs), else Fastify's request object. Not a WeakMap: its entries for short-lived requests
 * cost the garbage collector more than the whole check (~15 µs per request, measured with Fastify).
 */
function holderOf(executionContext: ExecutionContext): { holder: Holder; method: string | undefined } {
  const http = executionContext.switchToHttp();
  const request = http.getRequest<{ method?: unknown }>();
  const locals = http.getResponse<{ locals?: unknown }>().locals;
  const holder = (typeof locals === 'object' && locals !== null ? locals : request) as Holder;
  return { holder, method: typeof request.method === 'string' ? request.method : undefined };
}

/** The request's context, shared by the guard and the interceptor. */
export function contextOf(config: StiggNestConfig, executionContext: ExecutionContext): NestRequestContext {
  if (executionContext.getType() !== 'http') return new NestRequestContext(config, executionContext);
  const { holder, method } = holderOf(executionContext);
  let context = holder[kContext];
  if (context === undefined) {
    context = new NestRequestContext(config, executionContext, method);
    holder[kContext] = context;
  }
  return context;
}
