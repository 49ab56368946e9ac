/** What every adapter entry point exports besides its own setup, requireFeature, entitlementErrorHandler and stiggWebhook. */
export type { ProblemDetails } from './problem';
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from './problem';
export { EntitlementDeniedError, EntitlementUnavailableError } from '../core';
export { InvalidIdError } from '../core';
export { StiggGateError } from '../core';
