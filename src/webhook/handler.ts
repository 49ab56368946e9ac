import type { Entitlements, Logger } from '../core';
import { silentLogger } from '../core/internal';
import { processWarning } from '../util/process-warning';
import { rejectUnknownOptions } from '../util/unknown-options';
import { MalformedWebhookError, parseWebhookEvent } from './event';
import { BodyAbortedError, BodyTimeoutError, BodyTooLargeError, readFetchBody, webhookLimits } from './limits';
import { EventOrder } from './order';
import { secretMatches } from './secret';

export interface StiggWebhookOptions {
  /** What createEntitlements() returned: the affected customer is invalidated there (fleet-wide with the Redis store). */
  entitlements: Pick<Entitlements, 'invalidate'>;
  /**
   * The endpoint's secret from Stigg's console. Stigg sends it as is in the `Stigg-Webhooks-Secret`
   * header; a request without it (or with another) is answered 401 before any byte of its body is
   * read. Without it every request is refused (401), unless `allowUnauthenticated` is true.
   */
  secret?: string | undefined;
  /** Accept requests without a secret (local development only): anyone who reaches the endpoint can force refetches. */
  allowUnauthenticated?: boolean | undefined;
  /** The largest body read (default 1 MiB; Stigg's events are a few KB): 413 past it. */
  maxBodyBytes?: number | undefined;
  /** How long the body may take to arrive once the headers were accepted (default 10,000 ms): 408 past it. */
  bodyTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
}

export interface WebhookRequest {
  /** Node's (lower-cased) header object or a Fetch API Headers. */
  headers: Record<string, string | string[] | undefined> | Headers;
  /** The raw body (string or bytes) or the object a body parser made of it. */
  body?: unknown;
  /** Reads the body, called only once the secret matched (the adapters pass it: nothing is read for a 401). */
  readBody?: () => Promise<unknown>;
}

export interface WebhookResult {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
}

export type StiggWebhookHandler = (request: WebhookRequest) => Promise<WebhookResult>;

export const SECRET_HEADER = 'stigg-webhooks-secret';
const KNOWN_OPTIONS = ['entitlements', 'secret', 'allowUnauthenticated', 'maxBodyBytes', 'bodyTimeoutMs', 'logger'] as const;
const MAX_CUSTOMERS_TRACKED = 10_000;
const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';
const decoder = new TextDecoder();

function problem(status: number, name: string, title: string, detail: string): WebhookResult {
  return { status, contentType: PROBLEM_TYPE, body: { type: `urn:stigg-gate:problem:${name}`, title, status, detail } };
}

function headerOf(headers: WebhookRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A body that could not be read within the limits (413, 408) or not wholly (400, the sender is gone); else not the handler's to answer. */
function bodyProblem(error: unknown): WebhookResult {
  if (error instanceof BodyTooLargeError) return problem(413, 'webhook-too-large', 'Payload Too Large', error.message);
  if (error instanceof BodyTimeoutError) return problem(408, 'webhook-timeout', 'Request Timeout', error.message);
  if (error instanceof BodyAbortedError) return problem(400, 'webhook-incomplete', 'Incomplete body', error.message);
  throw error;
}

function parseBody(body: unknown): unknown {
  if (body instanceof Uint8Array) return JSON.parse(decoder.decode(body));
  if (typeof body === 'string') return JSON.parse(body);
  return body;
}

/**
 * Stigg's webhooks, framework-free: `entitlements.updated` and `subscription.*` invalidate the
 * customer (in every process sharing a Redis store), so the next decision asks Stigg. An event
 * older than one already applied for the customer (by entitlementsUpdatedAt / timestamp) is
 * ignored. Answers 200 (applied or ignored, unknown types included), 400 for a malformed body,
 * 401 for a wrong or missing secret (checked before the body is read), 408/413 for a body too slow
 * or too large, 503 when the invalidation failed (Stigg retries).
 */
export function handleStiggWebhook(options: StiggWebhookOptions): StiggWebhookHandler {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      'handleStiggWebhook() expects { entitlements, secret? }, e.g. handleStiggWebhook({ entitlements, secret: process.env.STIGG_WEBHOOK_SECRET }).',
    );
  }
  rejectUnknownOptions(options, KNOWN_OPTIONS, 'handleStiggWebhook()');
  const { entitlements, secret } = options;
  if (typeof entitlements?.invalidate !== 'function') {
    throw new TypeError('handleStiggWebhook(): entitlements is required: pass what createEntitlements() returned.');
  }
  if (secret !== undefined && (typeof secret !== 'string' || secret === '')) {
    throw new TypeError(
      "handleStiggWebhook(): secret must be a non-empty string (the endpoint's secret from Stigg's console), or omitted.",
    );
  }
  const { allowUnauthenticated } = options;
  if (allowUnauthenticated !== undefined && typeof allowUnauthenticated !== 'boolean') {
    throw new TypeError('handleStiggWebhook(): allowUnauthenticated must be true or false.');
  }
  webhookLimits(options);
  const logger = options.logger ?? silentLogger;
  if (typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError('handleStiggWebhook(): logger must have warn() and error() methods.');
  }
  const refuseAll = secret === undefined && allowUnauthenticated !== true;
  if (refuseAll) {
    const message =
      "Stigg webhook: no secret configured, so every request is refused (401); pass secret (the endpoint's secret from Stigg's console), or allowUnauthenticated: true for local development";
    if (options.logger === undefined) processWarning(message, 'STIGG_GATE_WEBHOOK_NO_SECRET');
    else logger.error({}, message);
  } else if (secret === undefined) {
    logger.warn({}, 'Stigg webhook: allowUnauthenticated is set, so any caller can invalidate cached entitlements');
  }
  const order = new EventOrder(MAX_CUSTOMERS_TRACKED);

  return async function stiggWebhookHandler(request: WebhookRequest): Promise<WebhookResult> {
    if (refuseAll) {
      return problem(401, 'webhook-unauthorized', 'Unauthorized', 'This endpoint has no secret configured, so it accepts no request.');
    }
    if (secret !== undefined && !secretMatches(headerOf(request.headers, SECRET_HEADER), secret)) {
      return problem(401, 'webhook-unauthorized', 'Unauthorized', `The ${SECRET_HEADER} header does not hold this endpoint's secret.`);
    }
    let body = request.body;
    if (request.readBody !== undefined) {
      try {
        body = await request.readBody();
      } catch (error) {
        return bodyProblem(error);
      }
    }
    let action;
    try {
      action = parseWebhookEvent(parseBody(body));
    } catch (error) {
      const detail = error instanceof MalformedWebhookError ? error.message : 'the body is not valid JSON';
      return problem(400, 'webhook-malformed', 'Malformed webhook', detail);
    }
    if (action.kind === 'ignore')
      return {
        status: 200,
        contentType: JSON_TYPE,
        body: { received: true, action: 'ignored', reason: `type ${action.type} is not handled` },
      };
    // An event dated after this clock's now is remembered as now: a clock glitch or a replayed
    // fixture must not make every real event until that date look stale.
    if (!order.accept(action.customerId, Math.min(action.at, Date.now()), action.eventId)) {
      return { status: 200, contentType: JSON_TYPE, body: { received: true, action: 'ignored', reason: 'stale or repeated event' } };
    }
    try {
      await entitlements.invalidate(action.customerId);
    } catch (error) {
      order.forget(action.customerId);
      logger.error(
        { customerId: action.customerId, type: action.type, error: error instanceof Error ? error.message : String(error) },
        'Stigg webhook: could not invalidate the customer; Stigg will send it again',
      );
      return problem(503, 'webhook-unavailable', 'Service Unavailable', 'The cached entitlements could not be invalidated; try again.');
    }
    return { status: 200, contentType: JSON_TYPE, body: { received: true, action: 'invalidated', customerId: action.customerId } };
  };
}

/** The same handler for Fetch API runtimes (Hono, Workers, Next.js route handlers): Request in, Response out. */
export function stiggFetchWebhook(options: StiggWebhookOptions): (request: Request) => Promise<Response> {
  const handle = handleStiggWebhook(options);
  const limits = webhookLimits(options);
  return async function stiggFetchWebhookHandler(request: Request): Promise<Response> {
    const result = await handle({ headers: request.headers, readBody: () => readFetchBody(request, limits) });
    return new Response(JSON.stringify(result.body), { status: result.status, headers: { 'content-type': result.contentType } });
  };
}
