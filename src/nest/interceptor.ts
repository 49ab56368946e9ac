import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { isRequestContextEnabled, requestContextStorage } from '../core/context';
import { isEntitlementError } from '../middleware/problem';
import { problemException } from './exception';
import type { StiggNestConfig } from './options';
import { contextOf } from './request-context';
import { STIGG_CONFIG } from './tokens';

/**
 * Runs the handler inside the request context, so that @RequireFeature / @ReportUsage service
 * methods (and controller requirements the guard left to the method) find the customer and the
 * entitlements. When the handler's observable errors, the units StiggGuard reserved are released at
 * once and stigg-gate's own errors become EntitlementProblemExceptions (problem+json). Units of a
 * handler that completed are committed when its response ends with a status < 400, whether or not the
 * client read it; a StreamableFile or SSE response cut off mid-stream follows the module's onAbort.
 */
@Injectable()
export class StiggInterceptor implements NestInterceptor {
  constructor(@Inject(STIGG_CONFIG) private readonly config: StiggNestConfig) {}

  intercept(executionContext: ExecutionContext, next: CallHandler): Observable<unknown> {
    const context = contextOf(this.config, executionContext);
    const statusMapping = this.config.statusMapping;
    return new Observable<unknown>(function subscribeInRequestContext(subscriber) {
      function run() {
        return next.handle().subscribe({
          next(value) {
            subscriber.next(value);
          },
          error(error: unknown) {
            context.releaseAll();
            subscriber.error(isEntitlementError(error) ? problemException(error, statusMapping) : error);
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
