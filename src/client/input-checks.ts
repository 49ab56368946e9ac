import type { ConsumeCreditInput, ConsumeCreditsAsyncInput, CreditGrantInput, EntitlementCheckRequested, ReportUsageInput } from './types';
import { optionalId, requireFinite, requireId, requireNonEmptyArray, requireObject } from './validate';

// Checks of the operations' inputs before anything is sent: a wrong amount or a missing
// idempotency key fails here, with the method and the field named, not as a GraphQL error later.

export function hasKey(value: { idempotencyKey?: string | null }): boolean {
  return typeof value.idempotencyKey === 'string' && value.idempotencyKey !== '';
}

export function customerInput(method: string, customerId: string | { customerId: string }): { customerId: string } {
  const input = typeof customerId === 'string' ? { customerId } : customerId;
  requireObject(method, 'input', input);
  requireId(method, typeof customerId === 'string' ? 'customerId' : 'input.customerId', input.customerId);
  return input;
}

export function checkReport(method: string, label: string, check: EntitlementCheckRequested): void {
  requireObject(method, label, check);
  requireId(method, `${label}.customerId`, check.customerId);
  requireId(method, `${label}.featureId`, check.featureId);
  optionalId(method, `${label}.resourceId`, check.resourceId);
  requireObject(method, `${label}.entitlementCheckResult`, check.entitlementCheckResult);
  if (typeof check.entitlementCheckResult.hasAccess !== 'boolean') {
    throw new TypeError(`StiggClient.${method}(): ${label}.entitlementCheckResult.hasAccess must be a boolean.`);
  }
}

export function checkUsage(method: string, label: string, usage: ReportUsageInput): void {
  requireObject(method, label, usage);
  requireId(method, `${label}.customerId`, usage.customerId);
  requireId(method, `${label}.featureId`, usage.featureId);
  requireFinite(method, `${label}.value`, usage.value);
  optionalId(method, `${label}.resourceId`, usage.resourceId);
  optionalId(method, `${label}.idempotencyKey`, usage.idempotencyKey);
}

/** Stigg's consumeCreditsAsync takes at most this many consumptions per call (its reference page). */
export const MAX_ASYNC_CONSUMPTIONS = 1_000;

export function checkConsumption(method: string, label: string, consumption: ConsumeCreditInput): void {
  requireObject(method, label, consumption);
  requireId(method, `${label}.customerId`, consumption.customerId);
  requireId(method, `${label}.currencyId`, consumption.currencyId);
  requireId(method, `${label}.idempotencyKey`, consumption.idempotencyKey);
  optionalId(method, `${label}.resourceId`, consumption.resourceId);
  requireFinite(method, `${label}.amount`, consumption.amount);
  if (consumption.amount <= 0) throw new TypeError(`${method}(): ${label}.amount must be > 0 credits; got ${consumption.amount}`);
}

export function checkAsyncConsumptions(method: string, input: ConsumeCreditsAsyncInput): void {
  requireObject(method, 'input', input);
  requireNonEmptyArray(method, 'input.consumptions', input.consumptions);
  if (input.consumptions.length > MAX_ASYNC_CONSUMPTIONS) {
    throw new TypeError(
      `${method}(): input.consumptions holds ${input.consumptions.length}; Stigg takes at most ${MAX_ASYNC_CONSUMPTIONS} per call — split it`,
    );
  }
  input.consumptions.forEach((consumption, index) => checkConsumption(method, `input.consumptions[${index}]`, consumption));
}

export function checkGrant(method: string, input: CreditGrantInput): void {
  requireObject(method, 'input', input);
  requireId(method, 'input.customerId', input.customerId);
  requireId(method, 'input.currencyId', input.currencyId);
  requireId(method, 'input.displayName', input.displayName);
  optionalId(method, 'input.resourceId', input.resourceId);
  requireFinite(method, 'input.amount', input.amount);
  if (input.amount <= 0) throw new TypeError(`${method}(): input.amount must be > 0 credits; got ${input.amount}`);
  if (input.grantType !== 'PAID' && input.grantType !== 'PROMOTIONAL') {
    throw new TypeError(`${method}(): input.grantType must be 'PAID' or 'PROMOTIONAL'; got ${String(input.grantType)}`);
  }
}
