import type { Attributes } from '@opentelemetry/api';
import type { Decision, DecisionSource } from '../core/types';

/**
 * OpenTelemetry's feature-flag semantic conventions (feature_flag.*, the `feature_flag.evaluation`
 * event) where they say something; `stigg_gate.*` for what only an entitlement decision has.
 */
export const ATTR = {
  key: 'feature_flag.key',
  provider: 'feature_flag.provider.name',
  variant: 'feature_flag.result.variant',
  value: 'feature_flag.result.value',
  reason: 'feature_flag.result.reason',
  contextId: 'feature_flag.context.id',
  errorType: 'error.type',
  source: 'stigg_gate.source',
  deniedReason: 'stigg_gate.access_denied_reason',
  requested: 'stigg_gate.requested_usage',
  limit: 'stigg_gate.usage_limit',
  remaining: 'stigg_gate.remaining',
  operation: 'stigg_gate.operation',
  outcome: 'stigg_gate.outcome',
} as const;

export const EVENT_NAME = 'feature_flag.evaluation';
export const PROVIDER = 'stigg';

/** feature_flag.result.reason by where the decision came from (the convention's well-known values). */
const REASONS: Record<DecisionSource, string> = {
  cache: 'cached',
  upstream: 'targeting_match',
  // The app's pre-configured decision for the feature while Stigg cannot be reached.
  fallback: 'default',
  // Granted because no decision could be made (failMode 'open').
  'fail-open': 'error',
};

/** The attributes of one decision's span event: no customer or resource id unless `customer`. */
export function eventAttributes(decision: Decision, customer: boolean): Attributes {
  const attributes: Attributes = {
    [ATTR.key]: decision.featureId,
    [ATTR.provider]: PROVIDER,
    [ATTR.variant]: decision.granted ? 'granted' : 'denied',
    [ATTR.value]: decision.granted,
    [ATTR.reason]: REASONS[decision.source] ?? 'unknown',
    [ATTR.source]: decision.source,
    [ATTR.requested]: decision.requestedUsage,
  };
  if (decision.source === 'fail-open') attributes[ATTR.errorType] = 'stigg_unavailable';
  if (decision.accessDeniedReason !== null) attributes[ATTR.deniedReason] = decision.accessDeniedReason;
  if (decision.usageLimit !== null) attributes[ATTR.limit] = decision.usageLimit;
  if (decision.remaining !== null) attributes[ATTR.remaining] = decision.remaining;
  if (customer) attributes[ATTR.contextId] = decision.customerId;
  return attributes;
}

/** The attributes of the decisions counter: bounded sets only (feature, result, reason, source). */
export function metricAttributes(decision: Decision): Attributes {
  const attributes: Attributes = {
    [ATTR.key]: decision.featureId,
    [ATTR.variant]: decision.granted ? 'granted' : 'denied',
    [ATTR.source]: decision.source,
  };
  if (decision.accessDeniedReason !== null) attributes[ATTR.deniedReason] = decision.accessDeniedReason;
  return attributes;
}
