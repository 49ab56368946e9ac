import type { ServerResponse } from 'node:http';
import { HttpException, type ExecutionContext } from '@nestjs/common';
import type { Decision, Lease } from '../core';
import { RequestGate, Settlement, isResponseGone, settleable } from '../middleware/gate';
import { rawResponse } from './exception';
import type { NestDeniedHandler, StiggNestConfig } from './options';

const NO_FEATURES: ReadonlySet<string> = new Set();

/**
 * One per request: the shared gate (customer and resource resolved lazily, at most once, ids checked
 * as in Express and Koa; HEAD metered like the GET it runs), what the guard reserved and decided, and the
 * AsyncLocalStorage context the interceptor enters so that decorated provider methods find the customer.
 */
export class NestRequestContext extends RequestGate<ExecutionContext, NestDeniedHandler> {
  /** The handler the guard (or the interceptor) marked, and the features its wrapper must leave alone. */
  private handler: object | undefined;
  private features: ReadonlySet<string> | undefined;
  private held: Settlement<ExecutionContext>[] | undefined;
  /** The guard's grants in order, as @EntitlementDecision() hands them (metered ones with settle(units)); most routes have one. */
  private first: Decision | undefined;
  private more: Decision[] | undefined;
  private watching = false;

  /**
   * Defined only for the request's handler, once the guard or the interceptor saw it: the features
   * its wrapper must not acquire again. The handler's arguments come from the request.
   */
  enforcedFeatures(method: object): ReadonlySet<string> | undefined {
    return method === this.handler ? this.features : undefined;
  }

  /**
   * The client left (the response can no longer carry an answer): what the handler's wrapper throws
   * instead of running it. A 499 HttpException: Nest's own filter writes it to the gone response
   * without logging it, and the interceptor gives back what the guard reserved.
   */
  clientGone(): Error | undefined {
    const res = rawResponse(this.req.switchToHttp().getResponse());
    return res !== undefined && isResponseGone(res) ? new HttpException('Client Closed Request', 499) : undefined;
  }

  /** The guard checked `features` for `handler`: its @RequireFeature wrapper must not acquire them again. */
  markEnforced(handler: object, features: ReadonlySet<string> = NO_FEATURES): void {
    this.handler = handler;
    this.features = features;
  }

  hold(lease: Lease): void {
    const settlement = new Settlement(lease, this.config, this.req);
    (this.held ??= []).push(settlement);
    this.granted(settleable(settlement));
  }

  /** A grant the handler may read (@EntitlementDecision()). */
  granted(decision: Decision): void {
    if (this.first === undefined) this.first = decision;
    else (this.more ??= []).push(decision);
  }

  /** The guard's decision for `featureId`, or its first one; undefined when the guard granted none. */
  decision(featureId: string | undefined): Decision | undefined {
    const { first } = this;
    if (first === undefined || featureId === undefined || first.featureId === featureId) return first;
    return this.more?.find((decision) => decision.featureId === featureId);
  }

  /**
   * The handler failed (or a later check denied): the reserved units are usable again at once — unless
   * the handler had written to `res` itself before it failed (Settlement.failed).
   */
  releaseAll(res?: ServerResponse): void {
    for (const settlement of this.held ?? []) settlement.failed(res);
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

/** The request's context when StiggGuard or StiggInterceptor made one (for parameter decorators, which have no injector). */
export function existingContextOf(executionContext: ExecutionContext): NestRequestContext | undefined {
  if (executionContext.getType() !== 'http') return undefined;
  return holderOf(executionContext).holder[kContext];
}
