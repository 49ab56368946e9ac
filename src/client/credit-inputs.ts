import type { ConsumeCreditInput, ConsumeCreditsAsyncInput, CreditGrantInput } from './types';
import { optionalId, requireFinite, requireId, requireNonEmptyArray, requireObject } from './validate';

// Checks of the credit operations' inputs before anything is sent: a wrong amount or a missing
// idempotency key fails here, with the method and the field named, not as a GraphQL error later.

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
