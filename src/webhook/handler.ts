import { silentLogger } from '../core/maybe-promise';
import type { Entitlements, Logger } from '../core/types';
import { rejectUnknownOptions } from '../core/unknown-options';
import { MalformedWebhookError, parseWebhookEvent } from './event';
import { EventOrder } from './order';
import { secretMatches } from './secret';

export interface StiggWebhookOptions {
  /** What createEntitlements() returned: the affected customer is invalidated there (fleet-wide with the Redis store). */
  entitlements: Pick<Entitlements, 'invalidate'>;
  /**
   * The endpoint's secret from Stigg's console. Stigg sends it as is in the `Stigg-Webhooks-Secret`
   * header; a request without it (or with another) is answered 401. Without this option every
   * request is accepted (a warning is logged once).
   */
  secret?: string;
  logger?: Logger;
}

export interface WebhookRequest {
  /** Node's (lower-cased) header object or a Fetch API Headers. */
  headers: Record<string, string | string[] | undefined> | Headers;
  /** The raw body (string or bytes) or the object a body parser made of it. */
  body: unknown;
}

export interface WebhookResult {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
}

export type StiggWebhookHandler = (request: WebhookRequest) => Promise<WebhookResult>;

export const SECRET_HEADER = 'stigg-webhooks-secret';
const KNOWN_OPTIONS = ['entitlements', 'secret', 'logger'] as const;
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
 * 401 for a wrong secret, 503 when the invalidation failed (Stigg retries).
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
  const logger = options.logger ?? silentLogger;
  if (typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError('handleStiggWebhook(): logger must have warn() and error() methods.');
  }
  const order = new EventOrder(MAX_CUSTOMERS_TRACKED);
  let warnedUnauthenticated = false;

  return async function stiggWebhookHandler(request: WebhookRequest): Promise<WebhookResult> {
    if (secret === undefined) {
      if (!warnedUnauthenticated) {
        warnedUnauthenticated = true;
        logger.warn({}, 'Stigg webhook: no secret configured, so any caller can invalidate cached entitlements; pass secret');
      }
    } else if (!secretMatches(headerOf(request.headers, SECRET_HEADER), secret)) {
      return problem(401, 'webhook-unauthorized', 'Unauthorized', `The ${SECRET_HEADER} header does not hold this endpoint's secret.`);
    }
    let action;
    try {
      action = parseWebhookEvent(parseBody(request.body));
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
  return async function stiggFetchWebhookHandler(request: Request): Promise<Response> {
    const result = await handle({ headers: request.headers, body: await request.text() });
    return new Response(JSON.stringify(result.body), { status: result.status, headers: { 'content-type': result.contentType } });
  };
}
