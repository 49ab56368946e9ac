import type { ServerResponse } from 'node:http';
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter, type ExecutionContext } from '@nestjs/common';
import { EntitlementDeniedError, EntitlementUnavailableError, MissingCustomerError, type StatusMapping, InvalidIdError } from '../core';
import type { Decision } from '../core';
import { markStiggGateError } from '../core/internal';
import { describeValue } from '../util/describe-value';
import { warnOnce } from '../middleware/gate';
import { PROBLEM_CONTENT_TYPE, errorProblem, retryAfterHeader, type ProblemDetails, type RenderableError } from '../middleware/problem';
import type { StiggNestConfig } from './options';

/**
 * What stigg-gate/nest throws for a request it answers itself (denial 402/403, no customer 401, bad
 * usage 400, no decision 503). An HttpException, so that any filter of the app sees its status;
 * StiggExceptionFilter, bound to every controller route by StiggModule, renders it as problem+json.
 */
export class EntitlementProblemException extends HttpException {
  readonly errorCode: string = 'ERR_STIGG_GATE_NEST_PROBLEM';
  readonly problem: ProblemDetails;
  readonly retryAfterSeconds: number | undefined;

  constructor(problem: ProblemDetails, retryAfterSeconds?: number, cause?: unknown) {
    super(problem, problem.status, cause === undefined ? { description: problem.title } : { cause, description: problem.title });
    this.name = 'EntitlementProblemException';
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
markStiggGateError(EntitlementProblemException);

/** The exception for an error a decorated method threw (rendered with the module's status mapping). */
export function problemException(error: RenderableError, statusMapping: StatusMapping | undefined): EntitlementProblemException {
  const { problem, retryAfterSeconds } = errorProblem(error, statusMapping);
  return new EntitlementProblemException(problem, retryAfterSeconds, error);
}

/**
 * What a denial throws: the module's onDenied answer when it has one (an object: any other answer is
 * logged once and replaced by the default), else an EntitlementProblemException.
 */
export function deniedException(
  config: StiggNestConfig,
  decision: Decision,
  context: ExecutionContext,
  problem: ProblemDetails,
  cause?: unknown,
): unknown {
  const { onDenied } = config;
  if (onDenied !== undefined) {
    const custom = onDenied(decision, context, problem);
    if (typeof custom === 'object' && custom !== null) return custom;
    warnOnce(
      config,
      'onDenied\0answer',
      { featureId: decision.featureId },
      `stigg-gate: StiggModule's onDenied returned ${describeValue(custom)} instead of an exception to throw; the denial was answered with problem+json. Return (or throw) e.g. new HttpException(body, problem.status).`,
    );
  }
  return new EntitlementProblemException(problem, undefined, cause);
}

export interface FastifyReplyLike {
  raw: ServerResponse;
  sent?: boolean;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(body: string): unknown;
}

export function isFastifyReply(value: unknown): value is FastifyReplyLike {
  const reply = value as Partial<FastifyReplyLike> | null;
  return (
    typeof reply === 'object' &&
    reply !== null &&
    typeof reply.code === 'function' &&
    typeof reply.send === 'function' &&
    typeof reply.raw === 'object'
  );
}

/** The underlying Node response of Express's Response (itself one) or Fastify's reply. */
export function rawResponse(response: unknown): ServerResponse | undefined {
  if (isFastifyReply(response)) return response.raw;
  const res = response as Partial<ServerResponse> | null;
  return typeof res === 'object' && res !== null && typeof res.setHeader === 'function' && typeof res.end === 'function'
    ? (res as ServerResponse)
    : undefined;
}

/** Writes the problem to an Express response or a Fastify reply. */
export function sendProblem(response: unknown, problem: ProblemDetails, retryAfterSeconds: number | undefined): void {
  const body = JSON.stringify(problem);
  if (isFastifyReply(response)) {
    if (response.sent === true || response.raw.headersSent) return;
    response.code(problem.status).header('content-type', PROBLEM_CONTENT_TYPE);
    if (retryAfterSeconds !== undefined) response.header('retry-after', retryAfterHeader(retryAfterSeconds));
    response.send(body);
    return;
  }
  const res = rawResponse(response);
  if (res === undefined)
    throw new TypeError('stigg-gate/nest can render problems on @nestjs/platform-express and @nestjs/platform-fastify responses only.');
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = problem.status;
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', retryAfterHeader(retryAfterSeconds));
  res.end(body);
}

/**
 * Renders stigg-gate's errors as application/problem+json (RFC 9457), with the body and status the
 * Express and Koa adapters give them. Catches nothing else, so every other error goes on to the app's
 * own filters. StiggModule binds it to each controller route (route filters come before global ones).
 */
@Catch(EntitlementProblemException, EntitlementDeniedError, EntitlementUnavailableError, MissingCustomerError, InvalidIdError)
export class StiggExceptionFilter implements ExceptionFilter {
  catch(exception: EntitlementProblemException | RenderableError, host: ArgumentsHost): unknown {
    const rendered = exception instanceof EntitlementProblemException ? exception : problemException(exception, undefined);
    if (host.getType() !== 'http') return rendered;
    sendProblem(host.switchToHttp().getResponse(), rendered.problem, rendered.retryAfterSeconds);
    return undefined;
  }
}

/** The one filter instance bound to routes: it keeps no state, so one serves every application in the process. */
export const stiggExceptionFilter = new StiggExceptionFilter();
