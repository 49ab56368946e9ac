import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PromotionalEntitlementPeriod } from './catalog-types';
import { EmulatorError } from './errors';
import { errorJson, MAX_BODY_BYTES, readBody, send } from './http';
import type { EmulatorState } from './state';
import type { Json } from './store';

/**
 * Admin commands for a person at a terminal (curl), behind the API key, next to the API:
 *   POST /admin/customers/:id/plan       {"planId": "...", "billingPeriod"?: "MONTHLY"}  (provisions the customer when new)
 *   POST /admin/customers/:id/usage      {"featureId": "...", "value": N, "resourceId"?: "..."}  (a DELTA report)
 *   POST /admin/customers/:id/promotion  {"featureId": "...", "period"?: "ONE_MONTH", "usageLimit"?: N, "hasUnlimitedUsage"?: true}
 *   POST /admin/reset                    back to the catalog, statistics zeroed
 * Each answers the customer's entitlements after the change (or {"reset": true}); a domain error is a
 * 400 whose message names what is wrong, e.g. an unknown plan.
 */
export const ADMIN_PREFIX = '/admin/';

const ROUTE = /^\/admin\/customers\/([^/]+)\/(plan|usage|promotion)$/;

type Body = Record<string, unknown>;

function field(body: Body, name: string, type: 'string' | 'number' | 'boolean', required: boolean): unknown {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== type) throw new EmulatorError('BadUserInput', `"${name}" must be a ${type}${required ? '' : ' when given'}`);
  return value;
}

/** The customer's granted entitlements in a person's terms. */
function entitlementsSummary(state: EmulatorState, customerId: string): Json[] {
  return state.entitlementsOf(customerId).map((entitlement) => ({
    featureId: (entitlement.feature as { refId?: unknown } | undefined)?.refId ?? null,
    usageLimit: entitlement.usageLimit,
    hasUnlimitedUsage: entitlement.hasUnlimitedUsage,
    hasSoftLimit: entitlement.hasSoftLimit,
    currentUsage: entitlement.currentUsage,
    enumValues: entitlement.enumValues,
  }));
}

function setPlan(state: EmulatorState, customerId: string, body: Body): Json {
  const planId = field(body, 'planId', 'string', true) as string;
  const billingPeriod = field(body, 'billingPeriod', 'string', false) as 'MONTHLY' | 'ANNUALLY' | undefined;
  const params = { planId, ...(billingPeriod === undefined ? {} : { billingPeriod }) };
  if (!state.hasCustomer(customerId)) {
    state.provisionCustomer({ customerId, subscriptionParams: params });
    return { customerId, planId, status: 'SUCCESS' };
  }
  const result = state.provisionSubscriptionV2({ customerId, ...params });
  return { customerId, planId, status: result.status, ...(result.checkoutUrl ? { checkoutUrl: result.checkoutUrl } : {}) };
}

function addUsage(state: EmulatorState, customerId: string, body: Body): Json {
  const featureId = field(body, 'featureId', 'string', true) as string;
  const value = field(body, 'value', 'number', true) as number;
  const resourceId = field(body, 'resourceId', 'string', false) as string | undefined;
  const result = state.reportUsage({ customerId, featureId, value, ...(resourceId === undefined ? {} : { resourceId }) });
  return { customerId, featureId, currentUsage: result.currentUsage };
}

function grantPromotion(state: EmulatorState, customerId: string, body: Body): Json {
  const featureId = field(body, 'featureId', 'string', true) as string;
  const period = (field(body, 'period', 'string', false) ?? 'ONE_MONTH') as PromotionalEntitlementPeriod;
  const usageLimit = field(body, 'usageLimit', 'number', false) as number | undefined;
  const hasUnlimitedUsage = field(body, 'hasUnlimitedUsage', 'boolean', false) as boolean | undefined;
  const [granted] = state.grantPromotionalEntitlements({
    customerId,
    promotionalEntitlements: [
      {
        featureId,
        period,
        ...(usageLimit === undefined ? {} : { usageLimit }),
        ...(hasUnlimitedUsage === undefined ? {} : { hasUnlimitedUsage }),
      },
    ],
  });
  return { customerId, featureId, period, endDate: granted?.endDate ?? null };
}

const COMMANDS = { plan: setPlan, usage: addUsage, promotion: grantPromotion } as const;

/** Handles a request under /admin/ (the caller checked the API key). */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  state: EmulatorState,
  reset: () => void,
): Promise<void> {
  if (req.method !== 'POST') {
    send(res, 405, errorJson('The admin commands are POST requests (docs/emulator.md, "Admin commands")', 'METHOD_NOT_ALLOWED'), {
      allow: 'POST',
    });
    return;
  }
  if (path === '/admin/reset') {
    reset();
    send(res, 200, JSON.stringify({ reset: true }));
    return;
  }
  const match = ROUTE.exec(path);
  if (match === null) {
    send(
      res,
      404,
      errorJson(
        `Not found: ${path}. Admin commands: POST /admin/customers/:id/plan, /usage, /promotion, and POST /admin/reset.`,
        'NOT_FOUND',
      ),
    );
    return;
  }
  const customerId = decodeURIComponent(match[1] as string);
  const command = COMMANDS[match[2] as keyof typeof COMMANDS];
  const text = await readBody(req);
  if (text === null) {
    send(res, 413, errorJson(`Request body larger than ${MAX_BODY_BYTES} bytes`, 'PAYLOAD_TOO_LARGE'));
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text === '' ? '{}' : text);
  } catch {
    send(res, 400, errorJson('The body must be JSON, e.g. {"planId": "plan-revvenu-growth"}', 'BAD_REQUEST'));
    return;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    send(res, 400, errorJson('The body must be a JSON object', 'BAD_REQUEST'));
    return;
  }
  try {
    const done = command(state, customerId, body as Body);
    send(res, 200, JSON.stringify({ ...done, entitlements: entitlementsSummary(state, customerId) }));
  } catch (error) {
    if (!(error instanceof EmulatorError)) throw error;
    send(res, 400, errorJson(error.message, error.extensions.code));
  }
}
