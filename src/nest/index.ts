export { StiggModule } from './module';
export { StiggGuard } from './guard';
export { StiggInterceptor } from './interceptor';
export { EntitlementDecision } from './decision';
export { SkipEntitlements, SKIP_ENTITLEMENTS_METADATA } from './skip';
export { StiggExceptionFilter, EntitlementProblemException } from './exception';
export { STIGG_ENTITLEMENTS } from './tokens';
export { stiggWebhook, type StiggWebhookOptions } from './webhook';
export type {
  StiggModuleOptions,
  StiggModuleAsyncOptions,
  StiggModuleFactoryOptions,
  StiggModuleSwitches,
  StiggInstanceOptions,
  StiggNestOptions,
  NestDeniedHandler,
  ContextResolver,
} from './options';
export type { Decision } from '../core';
export type { ProblemDetails } from '../middleware/problem';
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../middleware/problem';
export { EntitlementDeniedError, EntitlementUnavailableError, MissingCustomerError } from '../core';
