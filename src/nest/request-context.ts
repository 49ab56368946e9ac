import type { ServerResponse } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';
import type { Lease } from '../core/types';
import { RequestGate, Settlement } from '../middleware/gate';
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
  private held: Settlement<ExecutionContext>[] | undefined;
  private watching = false;

  enforcedFeatures(method: object): ReadonlySet<string> | undefined {
    return method === this.handler ? this.features : undefined;
  }

  /** The guard checked `features` for `handler`: its @RequireFeature wrapper must not acquire them again. */
  markEnforced(handler: object, features: ReadonlySet<string>): void {
    this.handler = handler;
    this.features = features;
  }

  hold(lease: Lease): void {
    (this.held ??= []).push(new Settlement(lease, this.config, this.req));
  }

  /** The handler failed (or a later check denied): the reserved units are usable again at once. */
  releaseAll(): void {
    for (const settlement of this.held ?? []) settlement.failed();
  }

  /**
   * The held leases settle by the one rule of ../middleware/settle: Nest answers a completed handler
   * through res.end() (also on a response the client left), a failed one through the interceptor.
   */
  settleWhenDone(res: ServerResponse): void {
    if (this.watching || this.held === undefined) return;
    this.watching = true;
    for (const settlement of this.held) settlement.watch(res);
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
