import { FEATURE_REQUIREMENTS_METADATA } from './constants';
import { createDecorator } from './decorate';
import { validateFeatureId, validateScopeOptions } from './validate';
import { valuesProblem } from '../core/internal';
import { checkMode } from '../middleware/options';
import type { FeatureRequirement, RequestedUsage, RequestedValues, RequireFeatureOptions, StiggDecorator } from './types';
import { isUnitCount } from '../util/unit-count';

/**
 * Gates a method (or every own method of a class) on a Stigg feature.
 *
 * Before the method runs, the entitlement of the current customer is checked and `requestedUsage`
 * units are reserved; a denial rejects with `EntitlementDeniedError` (402/403, rendered as
 * problem+json by entitlementErrorHandler() and the Koa middleware) and the method does not run.
 * When the method returns (or its promise resolves) the units are reported as usage; when it throws
 * (or rejects) the reservation is released and nothing is reported.
 *
 * **A decorated method always returns a promise**, because the check may need I/O; decorate `async`
 * methods (the method form only accepts methods that return a promise).
 *
 * The customer comes from `options.customer(...args)`, else from the request context set up by
 * stigg() or withCustomer(); none anywhere rejects with MissingCustomerError. Method requirements
 * override class requirements for the same feature. Needs `import 'reflect-metadata'` in the host app.
 *
 * @param featureId the Stigg feature id, e.g. 'feature-01-templates'
 * @param requestedUsage units one call consumes: a number, or a function of the method's arguments
 *   (sync or async). Omit it for boolean features.
 * @param options `customer`/`resource` from the method's arguments and the `entitlements` instance, for calls outside a
 *   request; `requestedValues`, the values of an ENUM feature a call needs (a list, or a function of the arguments);
 *   `settle`, the units the call actually used, from its result (reported instead of `requestedUsage`); `mode`,
 *   'shadow' to run the method whatever the decision and count what enforcement would deny, or 'enforce'
 */
export function RequireFeature(featureId: string, options?: RequireFeatureOptions): StiggDecorator;
export function RequireFeature(featureId: string, requestedUsage?: RequestedUsage, options?: RequireFeatureOptions): StiggDecorator;
export function RequireFeature(
  featureId: string,
  usageOrOptions?: RequestedUsage | RequireFeatureOptions,
  maybeOptions?: RequireFeatureOptions,
): StiggDecorator {
  validateFeatureId('RequireFeature', featureId);
  const usageGiven = typeof usageOrOptions === 'number' || typeof usageOrOptions === 'function';
  const requestedUsage = usageGiven ? (usageOrOptions as RequestedUsage) : undefined;
  if (!usageGiven && usageOrOptions !== undefined && maybeOptions !== undefined) {
    throw new TypeError(
      `@RequireFeature('${featureId}', requestedUsage, options): requestedUsage must be a number or a function of the method's arguments; got ${typeof usageOrOptions}.`,
    );
  }
  const options = usageGiven || usageOrOptions === undefined ? maybeOptions : usageOrOptions;
  if (typeof requestedUsage === 'number' && !isUnitCount(requestedUsage)) {
    throw new TypeError(
      `${String(requestedUsage)} is not a valid requestedUsage for @RequireFeature('${featureId}'). Please choose a number >= 0 and at most Number.MAX_SAFE_INTEGER, or a function of the method's arguments.`,
    );
  }
  const { requestedValues, settle, mode, ...scopeOptions } = typeof options === 'object' && options !== null ? options : {};
  if (settle !== undefined && typeof settle !== 'function') {
    throw new TypeError(
      `The settle option of @RequireFeature('${featureId}') must be a function of the method's result (and arguments) returning the units it used, e.g. (result) => result.usage.total_tokens.`,
    );
  }
  const scope = validateScopeOptions(
    'RequireFeature',
    featureId,
    options === undefined ? undefined : typeof options === 'object' && options !== null ? scopeOptions : options,
  );
  const requirement: FeatureRequirement = Object.freeze({
    featureId,
    requestedUsage,
    requestedValues: checkValues(featureId, requestedValues),
    settle,
    mode: checkMode(`@RequireFeature('${featureId}')`, mode),
    ...scope,
  });
  return createDecorator('RequireFeature', FEATURE_REQUIREMENTS_METADATA, requirement);
}

function checkValues(featureId: string, values: unknown): RequestedValues | undefined {
  if (values === undefined || typeof values === 'function') return values as RequestedValues | undefined;
  const problem = valuesProblem(values);
  if (problem !== undefined) {
    throw new TypeError(
      `requestedValues of @RequireFeature('${featureId}') ${problem}. Pass the ENUM values a call needs, e.g. ['gpt-4o'], or a function of the method's arguments.`,
    );
  }
  return Object.freeze([...(values as string[])]);
}
