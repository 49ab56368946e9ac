import { USAGE_REPORTS_METADATA } from './constants';
import { createDecorator } from './decorate';
import { validateFeatureId, validateScopeOptions } from './validate';
import type { DecoratorScopeOptions, ReportedValue, StiggDecorator, UsageReportSpec } from './types';
import { isSignedUnitCount } from '../util/unit-count';

/**
 * Meters a method (or every own method of a class) without gating it: after the method returns (or
 * its promise resolves) `value` units are queued as usage of `featureId` (DELTA; negative values
 * lower a fluctuating feature's usage, 0 reports nothing). A method that throws or rejects reports
 * nothing. The customer is resolved before the method runs, exactly as for @RequireFeature.
 *
 * **A decorated method always returns a promise.** Needs `import 'reflect-metadata'` in the host app.
 *
 * @param value a number, or a function of the method's result and arguments: `(result, ...args) => number`
 */
export function ReportUsage(featureId: string, value: ReportedValue, options?: DecoratorScopeOptions): StiggDecorator {
  validateFeatureId('ReportUsage', featureId);
  if (typeof value !== 'function' && !isSignedUnitCount(value)) {
    throw new TypeError(
      `${String(value)} is not a valid value for @ReportUsage('${featureId}', value). Please choose a number within ±Number.MAX_SAFE_INTEGER, or a function (result, ...args) => number.`,
    );
  }
  const scope = validateScopeOptions('ReportUsage', featureId, options);
  const spec: UsageReportSpec = Object.freeze({ featureId, value, ...scope });
  return createDecorator('ReportUsage', USAGE_REPORTS_METADATA, spec);
}
