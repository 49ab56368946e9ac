import { isThenable } from '../util/maybe-promise';
import { toThrowable } from './gate';
import { PROBLEM_CONTENT_TYPE, retryAfterHeader, type ProblemDetails } from './problem';
import type { NodeResponse, Settlement } from './settle';

/*
 * The Node host: what Express, Koa and Fastify share once the pipeline (./pipeline) decided (Nest
 * runs the pipeline too, but answers by throwing to its exception filters: ../nest/guard). The grant settles by how the http.ServerResponse ends (Settlement.watch,
 * ./settle); these are the pieces of answering on it.
 */

/** The parts of Node's http.ServerResponse a problem is written with. */
interface ProblemTarget {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body: string): unknown;
}

/** Writes `problem` as the whole response (Express's res, a raw response). */
export function sendProblem(res: ProblemTarget, problem: ProblemDetails, retryAfterSeconds?: number): void {
  const body = JSON.stringify(problem);
  res.statusCode = problem.status;
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', retryAfterHeader(retryAfterSeconds));
  res.end(body);
}

/** An app's onDenied returned `rendered`: a rejection goes to the framework's error path (`fail`: next, done). */
export function failOnRejection(rendered: unknown, fail: (error: Error) => void): void {
  if (isThenable(rendered)) rendered.then(undefined, (error: unknown) => fail(toThrowable(error) as Error));
}

/**
 * Host.proceed where the handler ends the http.ServerResponse `res` itself (Express, Fastify): its
 * 'close' settles the grant (Settlement.watch), then the handler runs (`next`).
 */
export function watchAndContinue<Req>(res: NodeResponse, next: () => void, settlement: Settlement<Req> | undefined): void {
  settlement?.watch(res);
  next();
}

/** What Koa's context shows of the answer the handler set, written to `res` once the middleware returned. */
interface AnswerSet {
  readonly res: NodeResponse;
  readonly body: unknown;
  readonly status: number;
}

/**
 * Host.proceed of a metered grant where the handler sets its answer instead of writing it (Koa): the
 * answer set when `next` resolves settles (its status, and its body stream: watchBodyStream); a
 * rejection is a failed answer, except what the handler wrote to ctx.res itself (Settlement.failed).
 */
export function settleAnswer<Req>(ctx: AnswerSet, next: () => Promise<unknown>, settlement: Settlement<Req>): Promise<void> {
  settlement.watch(ctx.res);
  return next().then(
    function bodySet() {
      watchBodyStream(ctx.body, ctx.res, settlement);
      settlement.answered(ctx.status, ctx.res);
    },
    function settleAndRethrow(error: unknown) {
      settlement.failed(ctx.res);
      throw error;
    },
  );
}

/**
 * The handler set `body` as its answer (Koa): a body stream that breaks after the response started is
 * cut off (onAbort; Koa 2 leaves such a response open); one that breaks before it started is a failed
 * answer (Koa 2 ends a 404/500 at once, whose status decides; Koa 3 destroys the response).
 */
export function watchBodyStream<Req>(body: unknown, res: NodeResponse, settlement: Settlement<Req>): void {
  const stream = body as { pipe?: unknown; once?: (event: 'error', listener: () => void) => void } | null;
  if (typeof stream?.pipe !== 'function' || typeof stream.once !== 'function') return;
  stream.once('error', function bodyBroke() {
    if (res.writableEnded) settlement.answered(res.statusCode);
    else if (res.headersSent) settlement.aborted();
    else settlement.failed();
  });
}
