import type { Entitlements, Logger } from '../core';
import { UNREAD_GRACE_MS, watchBody } from './fetch-body';
import { PROBLEM_CONTENT_TYPE, retryAfterHeader, type ProblemDetails } from './problem';
import type { Settlement } from './settle';

/*
 * The Fetch host: what every `Request -> Response` framework (Hono on Node and Workers, and the like)
 * shares once the pipeline (./pipeline) decided. The handler's Response settles the grant by the one
 * rule of ./settle: its status, and, for a body, how the body ends (read to its end, or cut off); the
 * route may settle(units) itself until then, also from inside a stream it is still writing.
 */

/** What Workers (and other runtimes that end an isolate once the response is out) offer the app. */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
  /**
   * false where the runtime reads or cancels every body it was handed (Node under Next.js): no body
   * is read out for it. Absent: it may drop one unread (Workers, ./fetch-body).
   */
  readonly dropsUnreadBodies?: false;
}

/** Where a host finds what it delivers with: the request's gate. */
export interface Delivery {
  readonly entitlements: Entitlements;
  readonly config: { readonly logger: Logger };
  /** The request's HTTP method (the gate's). */
  readonly method?: string;
}

export function problemResponse(problem: ProblemDetails, retryAfterSeconds?: number): Response {
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = retryAfterHeader(retryAfterSeconds);
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}

/** What a request the client already left gets: nobody is listening. */
export function goneResponse(): Response {
  return new Response(null, { status: 499 });
}

function flush(delivery: Delivery, featureId: string): Promise<void> {
  return delivery.entitlements.flush().catch(function logFlushFailure(error: unknown) {
    delivery.config.logger.error(
      { featureId, error },
      'stigg-gate: delivering usage before the request ended failed; it stays queued for the next flush',
    );
  });
}

/**
 * The handler returned `response`: settles `settlement` by it and returns the Response to send (its
 * body watched); `settled` runs once the settlement is made (at once, or when the body ends). Where
 * the runtime may never send it (`settled` given: Workers), a body it does not start reading is read
 * out here (./fetch-body): at once when the client is known `gone`, else after UNREAD_GRACE_MS.
 */
export function settleResponse<Req>(
  settlement: Settlement<Req>,
  response: Response,
  settled?: () => void,
  gone?: boolean,
  unread = true,
  started?: () => boolean | undefined,
): Response {
  if (response.status >= 400 || response.body === null) {
    settlement.answered(response.status);
    settled?.();
    return response;
  }
  const unreadWatch = settled && unread ? { graceMs: gone === true ? 0 : UNREAD_GRACE_MS } : undefined;
  return watchBody(response, settlement, settled, unreadWatch, started);
}

/** The runtime's waitUntil, from the context's ExecutionContext (Workers'; Hono's executionCtx getter throws where there is none: Node). */
export function waitUntilOf(context: { readonly executionCtx: unknown }): WaitUntil | undefined {
  try {
    const ctx = context.executionCtx as Partial<WaitUntil> | undefined;
    return typeof ctx?.waitUntil === 'function' ? (ctx as WaitUntil) : undefined;
  } catch {
    return undefined;
  }
}

/** A Fetch framework's context as the host sees it: the handler's error, and its Response (replaced by the watched one). */
export interface Exchange {
  readonly error?: unknown;
  res: Response;
}

/** What settleAround reads of a Fetch framework's context `X`: one static object per adapter, nothing made per request. */
export interface FetchSide<X extends Exchange> {
  /** The runtime that may end the request's work once the response is out (Workers, Next's after()), if any. */
  runtime(x: X): WaitUntil | undefined;
  /** Where the usage is delivered: the request's gate. */
  delivery(x: X): Delivery;
  /** Whether the client is known to have left (Workers' request.signal, with the enable_request_signal flag). */
  gone?(x: X): boolean;
  /** Where the host knows it (@hono/node-server): whether the runtime sent the response's head yet. */
  started?(x: X): boolean | undefined;
}

/**
 * Where the runtime can end the request's work once the response is out or the client left
 * (`runtime`: Workers), the request is held open in waitUntil from BEFORE the handler runs until its
 * grant is settled, and the usage is delivered there. Workers cancel a request's pending work when
 * its client disconnects, unless a waitUntil promise is pending (then they wait for it, up to 30 s):
 * registered only once the Response was returned, a handler still at work when its client left was
 * cancelled mid-way and its grant never settled (held until it lapsed: free work). Elsewhere the
 * usage buffer's batching sends the usage. Returns what to call once the grant is settled.
 */
function holdUntilSettled<Req>(settlement: Settlement<Req>, runtime: WaitUntil | undefined, delivery: Delivery): (() => void) | undefined {
  if (runtime === undefined) return undefined;
  let settled!: () => void;
  const whenSettled = new Promise<void>((resolve) => (settled = resolve));
  const featureId = settlement.lease.decision.featureId;
  runtime.waitUntil(whenSettled.then(() => (settlement.committed ? flush(delivery, featureId) : undefined)));
  return settled;
}

/**
 * Runs the handler (`next`), then settles by its Response, whether or not the client is still there.
 * `side.gone` is read only where there is a runtime. A body that breaks before the runtime sent the
 * response's head (`side.started`) is answered 500 by the runtime, a failed answer (./fetch-body).
 */
export async function settleAround<X extends Exchange, Req>(
  side: FetchSide<X>,
  exchange: X,
  next: () => Promise<unknown>,
  settlement: Settlement<Req>,
): Promise<void> {
  const runtime = side.runtime(exchange);
  const delivery = side.delivery(exchange);
  const settled = holdUntilSettled(settlement, runtime, delivery);
  try {
    await next();
  } catch (error) {
    settlement.failed();
    settled?.();
    throw error;
  }
  if (exchange.error === undefined) {
    // A HEAD answer has no body to send: @hono/node-server cancels it, which read as a client gone
    // mid-body (onAbort: released), so the GET handler a HEAD ran was never counted. Its status decides.
    if (delivery.method === 'HEAD') {
      settlement.answered(exchange.res.status);
      settled?.();
      return;
    }
    const unread = runtime?.dropsUnreadBodies !== false;
    const started = side.started === undefined ? undefined : () => side.started?.(exchange);
    try {
      const gone = settled !== undefined && side.gone?.(exchange) === true;
      exchange.res = settleResponse(settlement, exchange.res, settled, gone, unread, started);
    } catch (error) {
      // A body nobody can read (already read or locked by the handler): the runtime cannot send it
      // either, a failed answer. Left unsettled, its units were held until reservationMaxMs.
      settlement.failed();
      settled?.();
      throw error;
    }
    return;
  }
  settlement.failed();
  settled?.();
}
