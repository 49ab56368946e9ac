export { StiggModule } from './module';
export { StiggGuard } from './guard';
export { StiggInterceptor } from './interceptor';
export { StiggExceptionFilter, EntitlementProblemException } from './exception';
export { STIGG_ENTITLEMENTS } from './tokens';
export type { StiggModuleOptions, StiggModuleAsyncOptions, StiggNestOptions, ContextResolver } from './options';
export type { ProblemDetails } from '../middleware/problem';
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../middleware/problem';
export { EntitlementDeniedError, EntitlementUnavailableError, MissingCustomerError } from '../core/errors';
