import { enableRequestContext } from '../core';

// stigg() enters the AsyncLocalStorage request context only once this module is loaded.
enableRequestContext();

export { RequireFeature } from './require-feature';
export { ReportUsage } from './report-usage';
export { withCustomer, type CustomerScope } from './with-customer';
export { getFeatureRequirements, getUsageReports } from './metadata';
export { FEATURE_REQUIREMENTS_METADATA, USAGE_REPORTS_METADATA } from './constants';
export { MissingCustomerError, InvalidUsageError } from '../core';
export { EntitlementDeniedError, EntitlementUnavailableError } from '../core';
export { InvalidIdError } from '../core';
export type {
  DecoratorScopeOptions,
  FeatureRequirement,
  UsageReportSpec,
  RequestedUsage,
  ReportedValue,
  StiggDecorator,
  AsyncMethod,
} from './types';
