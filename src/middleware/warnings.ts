import { MISCONFIGURATION_REASONS, type StatusMapping } from '../core';
import type { StiggConfig } from './options';
import { errorProblem, isEntitlementError, isKnownReason, type ProblemDetails } from './problem';

/** The warnings a gate gives once (misconfigured or unknown denial reasons) and the rendering of thrown denials. */

/** Where warnings go and which were given: a StiggConfig. */
type Warnings = Pick<StiggConfig<unknown, unknown>, 'warned' | 'logger'>;

/** Logs `message` once per config and key. */
export function warnOnce(config: Warnings, key: string, meta: Record<string, unknown>, message: string): void {
  if (config.warned.has(key)) return;
  config.warned.add(key);
  config.logger.warn(meta, message);
}

/** Misconfiguration reasons and reasons this version does not know are worth one warning per feature. */
export function warnAboutReason(config: Warnings, featureId: string, reason: string): void {
  if (!isKnownReason(reason)) {
    warnOnce(
      config,
      `${featureId}\0${reason}`,
      { featureId, accessDeniedReason: reason },
      `stigg-gate: feature "${featureId}" was denied with ${reason}, a reason this version of stigg-gate does not know; it answers 403 with the reason passed through. Upgrade stigg-gate, or map it with statusMapping once it is known. Logged once per feature and reason.`,
    );
    return;
  }
  if (!MISCONFIGURATION_REASONS.has(reason)) return;
  warnOnce(
    config,
    `${featureId}\0${reason}`,
    { featureId, accessDeniedReason: reason },
    `stigg-gate: feature "${featureId}" was denied with ${reason}, which usually means a misconfiguration (check the feature id and its type in Stigg). Logged once per feature and reason.`,
  );
}

/**
 * What entitlementErrorHandler() sends for an error a decorated method threw; undefined for errors
 * that are not ours. The handler's own mapping beats stigg()'s.
 */
export function renderThrown(
  error: unknown,
  statusMapping: StatusMapping | undefined,
  config: Pick<StiggConfig<unknown, unknown>, 'statusMapping' | 'warned' | 'logger'> | undefined,
): { problem: ProblemDetails; retryAfterSeconds?: number } | undefined {
  if (!isEntitlementError(error)) return undefined;
  const rendered = errorProblem(error, statusMapping, config?.statusMapping);
  const { featureId, accessDeniedReason } = rendered.problem;
  if (config !== undefined && typeof featureId === 'string' && accessDeniedReason !== undefined)
    warnAboutReason(config, featureId, accessDeniedReason);
  return rendered;
}
