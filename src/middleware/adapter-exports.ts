/** What every adapter entry point exports besides its own setup, requireFeature, entitlementErrorHandler and stiggWebhook. */
export type { ProblemDetails } from './problem';
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from './problem';
export { EntitlementDeniedError, EntitlementUnavailableError } from '../core/errors';
export { InvalidIdError } from '../core/input';
export { StiggGateError } from '../core/stigg-gate-error';
