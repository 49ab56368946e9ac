import type { ServerResponse } from 'node:http';
import { HttpException, type ExecutionContext } from '@nestjs/common';
import type { Decision } from '../core';
import { RequestGate, isResponseGone } from '../middleware/gate';
import { rawResponse } from './exception';
import type { NestDeniedHandler, StiggNestConfig } from './options';
import type { Route } from './plan';

const NO_FEATURES: ReadonlySet<string> = new Set();
const NO_ROUTES: readonly Route[] = [];

/**
 * One per request: the shared gate (customer and resource resolved lazily, at most once, ids checked
 * as in Express and Koa; HEAD metered like the GET it runs; what its grants reserved settles by the
 * rule of ../middleware/settle), the decisions a handler reads, and the AsyncLocalStorage context the
 * interceptor enters so that decorated provider methods find the customer.
 */
export class NestRequestContext extends RequestGate<ExecutionContext, NestDeniedHandler> {
  /** The handler the guard (or the interceptor) marked, and the features its wrapper must leave alone. */
  private handler: object | undefined;
  private features: ReadonlySet<string> | undefined;
  /** The guard's grants in order, as @EntitlementDecision() hands them (metered ones with settle(units)); most routes have one. */
  private first: Decision | undefined;
  private more: Decision[] | undefined;
  /** What the guard checks, in order (its pipeline host walks them: ./guard). */
  routes: readonly Route[] = NO_ROUTES;
  declare readonly config: StiggNestConfig;

  constructor(
    config: StiggNestConfig,
    executionContext: ExecutionContext,
    method?: string,
    /** The Node response under Express's Response or Fastify's reply; undefined outside HTTP. */
    readonly raw?: ServerResponse,
  ) {
    super(config, executionContext, method);
  }

  /**
   * Defined only for the request's handler, once the guard or the interceptor saw it: the features
   * its wrapper must not acquire again. The handler's arguments come from the request.
   */
  enforcedFeatures(method: object): ReadonlySet<string> | undefined {
    return method === this.handler ? this.features : undefined;
  }

  /** Whether the response can no longer carry an answer (the client left, or it was answered). */
  gone(): boolean {
    return this.raw !== undefined && isResponseGone(this.raw);
  }

  /**
   * The client left (the response can no longer carry an answer): what the handler's wrapper throws
   * instead of running it. A 499 HttpException: Nest's own filter writes it to the gone response
   * without logging it, and the interceptor gives back what the guard reserved.
   */
  clientGone(): Error | undefined {
    return this.gone() ? new HttpException('Client Closed Request', 499) : undefined;
  }

  /** The guard checked `features` for `handler`: its @RequireFeature wrapper must not acquire them again. */
  markEnforced(handler: object, features: ReadonlySet<string> = NO_FEATURES): void {
    this.handler = handler;
    this.features = features;
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
}

const kContext = Symbol.for('stigg-gate.nest.context');

type Holder = { [kContext]?: NestRequestContext };

/**
 * Where a request's context lives: Express's res.locals (adding a property to an Express request
 * costs ~2 µs), else Fastify's request object. Not a WeakMap: its entries for short-lived requests
 * cost the garbage collector more than the whole check (~15 µs per request, measured with Fastify).
 */
function holderOf(request: object, response: { locals?: unknown }): Holder {
  const { locals } = response;
  return typeof locals === 'object' && locals !== null ? locals : request;
}

/**
 * The request's context, shared by the guard and the interceptor. The request and the response are
 * read as the HTTP context's arguments: switchToHttp() assigns three new closures to the context on every call.
 */
export function contextOf(config: StiggNestConfig, executionContext: ExecutionContext): NestRequestContext {
  if (executionContext.getType() !== 'http') return new NestRequestContext(config, executionContext);
  const request = executionContext.getArgByIndex<{ method?: unknown }>(0);
  const response = executionContext.getArgByIndex<{ locals?: unknown }>(1);
  const holder = holderOf(request, response);
  let context = holder[kContext];
  if (context === undefined) {
    const method = typeof request.method === 'string' ? request.method : undefined;
    context = new NestRequestContext(config, executionContext, method, rawResponse(response));
    holder[kContext] = context;
  }
  return context;
}

/** The request's context when StiggGuard or StiggInterceptor made one (for parameter decorators, which have no injector). */
export function existingContextOf(executionContext: ExecutionContext): NestRequestContext | undefined {
  if (executionContext.getType() !== 'http') return undefined;
  return holderOf(executionContext.getArgByIndex(0), executionContext.getArgByIndex(1))[kContext];
}
