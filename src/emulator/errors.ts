import { randomUUID } from 'node:crypto';
import { StiggGateError } from '../core';

export type EmulatorErrorCode =
  | 'CustomerNotFound'
  | 'SubscriptionNotFound'
  | 'PlanNotFound'
  | 'AddonNotFound'
  | 'FeatureNotFound'
  | 'CouponNotFound'
  | 'ResourceNotFound'
  | 'PromotionalEntitlementNotFound'
  | 'CustomCurrencyNotFound'
  | 'CreditGrantNotFound'
  | 'CreditGrantAlreadyVoided'
  | 'BadUserInput'
  | 'NOT_MODELLED';

/**
 * A domain error as Stigg answers it: HTTP 200, `data: null`, and one error whose extensions carry
 * the code, `isValidationError`, the offending identifier and a trace id. graphql-js copies
 * `extensions` from the thrown error onto the GraphQL error it reports.
 */
export class EmulatorError extends StiggGateError {
  override readonly name = 'EmulatorError';
  readonly errorCode: string = 'ERR_STIGG_GATE_EMULATOR';
  readonly extensions: { code: EmulatorErrorCode; isValidationError: boolean; identifier?: string; traceId: string };

  constructor(code: EmulatorErrorCode, message: string, identifier?: string) {
    super(message);
    const isValidationError = code !== 'NOT_MODELLED';
    this.extensions =
      identifier === undefined
        ? { code, isValidationError, traceId: randomUUID() }
        : { code, isValidationError, identifier, traceId: randomUUID() };
  }
}
