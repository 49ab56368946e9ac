import 'reflect-metadata';
import { Controller, Get, Module, type ExecutionContext } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Stigg } from 'stigg-gate';
import { RequireFeature } from 'stigg-gate/decorators';
import { StiggModule } from 'stigg-gate/nest';
import { createTestEntitlements, inject } from 'stigg-gate/testing';

// docs/testing.md: an app module that imports StiggModule.forRoot({ client }) keeps its imports; the test
// swaps the module for one on the kit with Nest's overrideModule(), and no request reaches Stigg.

const customer = (context: ExecutionContext): string | undefined =>
  context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-customer'];

@Controller()
class AnalyticsController {
  @Get('analytics')
  @RequireFeature('feature-04-analytics')
  async analytics(): Promise<{ visitors: number }> {
    return { visitors: 1234 };
  }
}

const stiggModule = StiggModule.forRoot({
  client: Stigg.createClient('sk-never-used', { apiUrl: 'http://127.0.0.1:1/graphql' }),
  customer,
});

@Module({ imports: [stiggModule], controllers: [AnalyticsController] })
class AppModule {}

test('overrideModule() puts the kit where the app module had its StiggModule', async () => {
  const entitlements = createTestEntitlements({ customers: { 'cust-pro': { 'feature-04-analytics': true }, 'cust-basic': {} } });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideModule(stiggModule)
    .useModule(StiggModule.forRoot({ entitlements, customer }))
    .compile();
  const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
  await app.init();
  const get = (who: string) => inject(app.getHttpAdapter().getInstance(), { url: '/analytics', headers: { 'x-customer': who } });
  expect((await get('cust-pro')).statusCode).toBe(200);
  expect((await get('cust-basic')).statusCode).toBe(402);
  expect(entitlements.decisions().map((decision) => decision.customerId)).toEqual(['cust-pro', 'cust-basic']);
  await app.close();
  await entitlements.close();
});
