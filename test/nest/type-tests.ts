/**
 * Type tests of stigg-gate/nest, compiled by `npm run typecheck` (tsc -p . includes test/) and never
 * run: each `@ts-expect-error` line must fail to compile, every other line must compile.
 */
import 'reflect-metadata';
import { Controller, Get, HttpException, type ExecutionContext } from '@nestjs/common';
import { Stigg } from 'stigg-gate';
import { RequireFeature } from 'stigg-gate/decorators';
import {
  EntitlementDecision,
  SkipEntitlements,
  StiggModule,
  type Decision,
  type NestDeniedHandler,
  type StiggModuleFactoryOptions,
} from 'stigg-gate/nest';

const client = Stigg.createClient('key');
const customer = (ctx: ExecutionContext): string | undefined => ctx.switchToHttp().getRequest<{ user?: { id: string } }>().user?.id;

// forRoot takes the module switches among its options…
StiggModule.forRoot({ client, customer, isGlobal: true, useGlobalGuard: false });
// …forRootAsync beside its factory…
StiggModule.forRootAsync({ isGlobal: true, useGlobalGuard: false, useFactory: () => ({ client, customer }) });
StiggModule.forRootAsync({ useFactory: async () => ({ client, customer, useExceptionFilter: false }) });
// …and its factory's result refuses them (they are rejected at run time: Nest needs them before the factory runs).
// @ts-expect-error isGlobal belongs to forRootAsync({ isGlobal, useFactory }), not to what useFactory returns
StiggModule.forRootAsync({ useFactory: () => ({ client, customer, isGlobal: true }) });
// @ts-expect-error useGlobalGuard belongs to forRootAsync({ useGlobalGuard, useFactory })
StiggModule.forRootAsync({ useFactory: async () => ({ client, useGlobalGuard: false }) });
// @ts-expect-error the same through the exported factory type
const factoryResult: StiggModuleFactoryOptions = { client, isGlobal: true };

// onDenied receives the decision, the ExecutionContext and the problem, and returns the exception to throw.
const onDenied: NestDeniedHandler = (decision, ctx, problem) =>
  new HttpException({ upgrade: decision.featureId, route: ctx.getHandler().name, reason: problem.accessDeniedReason }, problem.status);
StiggModule.forRoot({ client, customer, onDenied, useExceptionFilter: false });
// @ts-expect-error useExceptionFilter is a boolean
StiggModule.forRoot({ client, customer, useExceptionFilter: 'no' });
// @ts-expect-error onDenied's first parameter is a Decision, not a string
StiggModule.forRoot({ client, customer, onDenied: (featureId: string) => new Error(featureId) });

@Controller('typed')
@RequireFeature('feature-04-analytics')
class TypedController {
  @Get('campaigns')
  @RequireFeature('feature-02-campaigns', 2)
  async campaigns(@EntitlementDecision('feature-02-campaigns') decision: Decision | undefined): Promise<number | null> {
    decision?.settle?.(1);
    return decision?.remaining ?? null;
  }

  @Get('health')
  @SkipEntitlements()
  async health(@EntitlementDecision() decision: Decision | undefined): Promise<boolean> {
    return decision === undefined;
  }
}

// @ts-expect-error EntitlementDecision takes a feature id
EntitlementDecision(2);

export { factoryResult, TypedController };
