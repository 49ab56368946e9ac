import type { Entitlements, Logger } from '../core/types';
import { watchBody } from './fetch-body';
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
}

/** Where a host finds what it delivers with: the request's gate. */
export interface Delivery {
  readonly entitlements: Entitlements;
  readonly config: { readonly logger: Logger };
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
 * body watched). Where the runtime can end the isolate once the response is out (`runtime`), the
 * usage is delivered inside waitUntil once settled; elsewhere the usage buffer's batching sends it.
 */
export function settleResponse<Req>(
  settlement: Settlement<Req>,
  response: Response,
  runtime: WaitUntil | undefined,
  delivery: Delivery,
): Response {
  const featureId = settlement.lease.decision.featureId;
  if (response.status >= 400 || response.body === null) {
    settlement.answered(response.status);
    if (runtime !== undefined && settlement.committed) runtime.waitUntil(flush(delivery, featureId));
    return response;
  }
  if (runtime === undefined) return watchBody(response, settlement);
  let settled!: () => void;
  const whenSettled = new Promise<void>((resolve) => (settled = resolve));
  runtime.waitUntil(whenSettled.then(() => (settlement.committed ? flush(delivery, featureId) : undefined)));
  return watchBody(response, settlement, settled);
}

/** The runtime's waitUntil, read through `read` (Hono's executionCtx getter throws where there is none: Node). */
export function waitUntilOf(read: () => unknown): WaitUntil | undefined {
  try {
    const ctx = read() as Partial<WaitUntil> | undefined;
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

/** Runs the handler (`next`), then settles by its Response, whether or not the client is still there. */
export async function settleAround<Req>(
  exchange: Exchange,
  next: () => Promise<unknown>,
  settlement: Settlement<Req>,
  runtime: WaitUntil | undefined,
  delivery: Delivery,
): Promise<void> {
  try {
    await next();
  } catch (error) {
    settlement.failed();
    throw error;
  }
  if (exchange.error !== undefined) settlement.failed();
  else exchange.res = settleResponse(settlement, exchange.res, runtime, delivery);
}
