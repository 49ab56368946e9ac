import type { Attributes } from '@opentelemetry/api';
import type { Decision, DecisionSource } from '../core';

/**
 * OpenTelemetry's feature-flag semantic conventions (feature_flag.*, the `feature_flag.evaluation`
 * event) where they say something; `stigg_gate.*` for what only an entitlement decision has.
 */
export const ATTR = {
  key: 'feature_flag.key',
  variant: 'feature_flag.result.variant',
  reason: 'feature_flag.result.reason',
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

/** feature_flag.result.reason by where the decision came from (the convention's well-known values). */
const REASONS: Record<DecisionSource, string> = {
  cache: 'cached',
  upstream: 'targeting_match',
  // The app's pre-configured decision for the feature while Stigg cannot be reached.
  fallback: 'default',
  // Granted because no decision could be made (failMode 'open').
  'fail-open': 'error',
  // Served by shadow mode because no decision could be made (enforcement would answer 503).
  shadow: 'error',
};

/**
 * The attributes of one decision's span event: no customer or resource id unless `customer`. One
 * literal with every key (string keys, not computed ones: V8 builds it from one shape), undefined where a
 * value does not apply (the SDK drops undefined values). Each attribute costs the SDK a check and a
 * copy per event: feature_flag.result.value (the variant says it) and feature_flag.provider.name (the
 * instrumentation scope, 'stigg-gate', says it) are left out.
 */
export function eventAttributes(decision: Decision, customer: boolean): Attributes {
  return {
    'feature_flag.key': decision.featureId,
    'feature_flag.result.variant': decision.granted ? 'granted' : 'denied',
    'feature_flag.result.reason': REASONS[decision.source] ?? 'unknown',
    'stigg_gate.source': decision.source,
    'stigg_gate.requested_usage': decision.requestedUsage,
    'stigg_gate.access_denied_reason': decision.accessDeniedReason ?? undefined,
    'stigg_gate.usage_limit': decision.usageLimit ?? undefined,
    'stigg_gate.remaining': decision.remaining ?? undefined,
    'error.type': decision.source === 'fail-open' ? 'stigg_unavailable' : undefined,
    'feature_flag.context.id': customer ? decision.customerId : undefined,
  };
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
