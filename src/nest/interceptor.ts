import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { isRequestContextEnabled, requestContextStorage } from '../core/internal';
import { warnAboutReason, warnOnce } from '../middleware/gate';
import { isEntitlementError, type RenderableError } from '../middleware/problem';
import { deniedException, problemException } from './exception';
import type { StiggNestConfig } from './options';
import { planOf } from './plan';
import { contextOf, type NestRequestContext } from './request-context';
import { STIGG_CONFIG } from './tokens';

/**
 * Runs the handler inside the request context, so that @RequireFeature / @ReportUsage service
 * methods (and controller requirements the guard left to the method) find the customer and the
 * entitlements. When the handler's observable errors, the units StiggGuard reserved are released at
 * once and stigg-gate's own errors become EntitlementProblemExceptions (problem+json; denials through
 * the module's onDenied). Units of a handler that completed are committed when its response ends with
 * a status < 400, whether or not the client read it; a StreamableFile or SSE response cut off
 * mid-stream follows the module's onAbort.
 */
@Injectable()
export class StiggInterceptor implements NestInterceptor {
  constructor(@Inject(STIGG_CONFIG) private readonly config: StiggNestConfig) {}

  intercept(executionContext: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { config } = this;
    const context = contextOf(config, executionContext);
    markHandler(context, executionContext);
    return new Observable<unknown>(function subscribeInRequestContext(subscriber) {
      function run() {
        return next.handle().subscribe({
          next(value) {
            subscriber.next(value);
          },
          error(error: unknown) {
            context.abandon(context.raw);
            subscriber.error(isEntitlementError(error) ? rendered(config, executionContext, error) : error);
          },
          complete() {
            subscriber.complete();
          },
        });
      }
      return isRequestContextEnabled() ? requestContextStorage.run(context, run) : run();
    });
  }
}

/**
 * Tells the handler's @RequireFeature wrapper that it is the request's handler (its arguments come
 * from the request: a usage function failing on them is the client's 400), and which features it
 * must leave alone: those the guard checked, or all of them under @SkipEntitlements().
 */
function markHandler(context: NestRequestContext, executionContext: ExecutionContext): void {
  const handler = executionContext.getHandler();
  if (context.enforcedFeatures(handler) !== undefined) return;
  const plan = planOf(executionContext.getClass(), handler);
  context.markEnforced(handler, plan.skip ? plan.allFeatures : undefined);
}

/** The exception for an error of stigg-gate's a decorated method threw. */
function rendered(config: StiggNestConfig, executionContext: ExecutionContext, error: RenderableError): unknown {
  const exception = problemException(error, config.statusMapping);
  if (error.name === 'EntitlementDeniedError' && 'decision' in error) {
    // As entitlementErrorHandler() on the other adapters: a reason this version does not know, or a misconfiguration, is logged once.
    const { featureId, accessDeniedReason } = exception.problem;
    if (typeof featureId === 'string' && accessDeniedReason !== undefined) warnAboutReason(config, featureId, accessDeniedReason);
    return deniedException(config, error.decision, executionContext, exception.problem, error);
  }
  if (error.name === 'InvalidUsageError' && error.cause !== undefined) {
    const featureId = exception.problem.featureId;
    warnOnce(
      config,
      `${String(featureId)}\0usage`,
      { featureId, error: error.cause },
      `stigg-gate: a ${(error as { field?: string }).field === 'requestedValues' ? 'requestedValues' : 'requestedUsage'} function of @RequireFeature('${String(featureId)}') threw on the request's arguments; the request was answered 400. Read optional input defensively, e.g. (body) => Number(body?.count ?? 1). Logged once per feature.`,
    );
  }
  return exception;
}
