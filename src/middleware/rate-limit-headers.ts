import type { Decision } from '../core';

/*
 * Opt-in IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers, the structured form that
 * express-rate-limit sends as `standardHeaders: 'draft-8'`) for a metered route, from its decision:
 *
 *   RateLimit-Policy: "feature-01-templates";q=100
 *   RateLimit: "feature-01-templates";r=42;t=86400
 *
 * The policy is named after the feature; q is the usage limit, r what is left after this request
 * (both whole units, rounded down: the fields are integers), t the seconds until the usage period
 * resets (absent when the feature does not reset). No fields for an unlimited feature or one without
 * a usage limit. Nothing here runs unless the option is on.
 */

/** An sf-string of the policy name, or undefined when the id holds a character a field cannot carry. */
function policyName(featureId: string): string | undefined {
  if (!/^[\x20-\x7e]*$/.test(featureId)) return undefined;
  return `"${featureId.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The two fields for `decision` at `nowMs`, or undefined when it has no limit to count against. */
export function rateLimitFields(decision: Decision, nowMs: number): { policy: string; state: string } | undefined {
  const { usageLimit, remaining } = decision;
  if (usageLimit === null || remaining === null || decision.hasUnlimitedUsage) return undefined;
  const name = policyName(decision.featureId);
  if (name === undefined) return undefined;
  const end = decision.usagePeriodEnd === null ? Number.NaN : Date.parse(decision.usagePeriodEnd);
  const reset = Number.isFinite(end) ? `;t=${Math.max(0, Math.ceil((end - nowMs) / 1000))}` : '';
  return {
    policy: `${name};q=${Math.floor(usageLimit)}`,
    state: `${name};r=${Math.max(0, Math.floor(remaining))}${reset}`,
  };
}
