import { idProblem, MAX_ID_LENGTH, StiggGateError } from '../core';

/** What a Stigg webhook asks of the gate, once its body is read and checked. */
export type WebhookAction =
  | {
      readonly kind: 'invalidate';
      readonly type: string;
      readonly customerId: string;
      readonly at: number;
      readonly eventId: string | undefined;
    }
  | { readonly kind: 'ignore'; readonly type: string };

/** A body that is not a Stigg event the gate understands: answered 400. */
export class MalformedWebhookError extends StiggGateError {
  override readonly name = 'MalformedWebhookError';
  readonly errorCode: string = 'ERR_STIGG_GATE_WEBHOOK_MALFORMED';
}

const ENTITLEMENTS_UPDATED = 'entitlements.updated';
const SUBSCRIPTION_EVENTS = new Set(['subscription.created', 'subscription.updated', 'subscription.canceled']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(value: unknown, where: string): string {
  if (!isObject(value) || typeof value['id'] !== 'string' || value['id'].trim() === '' || value['id'].length > MAX_ID_LENGTH) {
    throw new MalformedWebhookError(`${where}.id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  return value['id'];
}

/** The customer's id, by the rule every gate applies (a lone surrogate, a control character… is a 400 here, never a 503 retried forever). */
function customerIdOf(value: unknown): string {
  const id = isObject(value) ? value['id'] : undefined;
  const problem = idProblem(id);
  if (problem !== undefined) throw new MalformedWebhookError(`customer.id ${problem}`);
  return id as string;
}

function timeOf(value: unknown, where: string): number {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new MalformedWebhookError(`${where} must be an ISO 8601 date`);
  return ms;
}

/**
 * Stigg's envelope: `entitlements.updated` ({ customer: { id }, entitlements: [...],
 * entitlementsUpdatedAt, timestamp, ... }) and `subscription.created|updated|canceled`
 * ({ customer: { id }, subscription: { id, status, plan: { id } }, timestamp, ... }). Other types
 * are acknowledged and ignored.
 */
export function parseWebhookEvent(body: unknown): WebhookAction {
  if (!isObject(body)) throw new MalformedWebhookError('the body must be a JSON object');
  const type = body['type'];
  if (typeof type !== 'string' || type === '') throw new MalformedWebhookError('type must be a non-empty string');
  const eventId =
    typeof body['eventId'] === 'string' ? body['eventId'] : typeof body['messageId'] === 'string' ? body['messageId'] : undefined;
  if (type === ENTITLEMENTS_UPDATED) {
    const customerId = customerIdOf(body['customer']);
    if (body['entitlements'] !== undefined && !Array.isArray(body['entitlements'])) {
      throw new MalformedWebhookError('entitlements must be an array');
    }
    const at = timeOf(body['entitlementsUpdatedAt'] ?? body['timestamp'], 'entitlementsUpdatedAt');
    return { kind: 'invalidate', type, customerId, at, eventId };
  }
  if (SUBSCRIPTION_EVENTS.has(type)) {
    const customerId = customerIdOf(body['customer']);
    idOf(body['subscription'], 'subscription');
    const at = timeOf(body['timestamp'], 'timestamp');
    return { kind: 'invalidate', type, customerId, at, eventId };
  }
  return { kind: 'ignore', type };
}
