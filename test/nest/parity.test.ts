import 'reflect-metadata';
import {
  Body,
  Catch,
  Controller,
  Get,
  HttpException,
  Injectable,
  Post,
  type ArgumentsHost,
  type ExceptionFilter,
  type INestApplication,
} from '@nestjs/common';
import request from 'supertest';
import type { Logger } from 'stigg-gate';
import { RequireFeature } from 'stigg-gate/decorators';
import { EntitlementDecision, SkipEntitlements, StiggModule, type Decision, type StiggModuleOptions } from 'stigg-gate/nest';
import { ANALYTICS, CAMPAIGNS, TEMPLATES, startRig } from '../decorators/rig';
import { createApp, customerFromHeader, platforms, runs } from './app';
import { forSuite } from '../support/suite';

/*
 * What the other adapters do, on Nest: a usage function failing on the request is a 400, a denial can
 * be restyled (onDenied) or left to the app's own filters, the handler reads its decision and settles
 * it, and a route can opt out of a global guard.
 */

const PROBLEM = /^application\/problem\+json/;

function ran(name: string): void {
  runs.set(name, (runs.get(name) ?? 0) + 1);
}

@Injectable()
class InsightsService {
  @RequireFeature(ANALYTICS)
  async insights(): Promise<{ insights: number }> {
    ran('insights');
    return { insights: 7 };
  }

  /** Its arguments are the app's, not the request's: a usage function failing on them is the app's bug. */
  @RequireFeature(CAMPAIGNS, (plan: { sizes: number[] } | undefined) => plan!.sizes.length)
  async schedule(plan: { sizes: number[] } | undefined): Promise<number> {
    ran('schedule');
    return plan?.sizes.length ?? 0;
  }
}

@Controller()
class ParityController {
  constructor(private readonly service: InsightsService) {}

  /** Reads a field of the body without a guard: no items is a TypeError inside the usage function. */
  @Post('batch')
  @RequireFeature(CAMPAIGNS, (body: { items: unknown[] }) => body.items.length)
  async batch(@Body() body: { items: unknown[] }): Promise<{ created: number }> {
    ran('batch');
    return { created: body.items.length };
  }

  /** A usage function failing with the app's own error (not the request's shape): the app's 500. */
  @Post('broken')
  @RequireFeature(CAMPAIGNS, () => {
    throw new Error('the pricing table is not loaded');
  })
  async broken(): Promise<void> {
    ran('broken');
  }

  @Get('analytics')
  @RequireFeature(ANALYTICS)
  async analytics(): Promise<{ visitors: number }> {
    ran('analytics');
    return { visitors: 1 };
  }

  @Post('campaigns')
  @RequireFeature(CAMPAIGNS, (body: { count: number }) => body.count)
  async campaigns(@Body() body: { count: number }): Promise<{ created: number }> {
    ran('campaigns');
    return { created: body.count };
  }

  @Get('insights')
  async insights(): Promise<{ insights: number }> {
    return this.service.insights();
  }

  @Post('schedule')
  async schedule(): Promise<number> {
    return this.service.schedule(undefined);
  }

  /** Reserves 3 templates, uses what the body says. */
  @Post('drafts')
  @RequireFeature(TEMPLATES, 3)
  async drafts(@Body() body: { used: number }, @EntitlementDecision() decision: Decision | undefined): Promise<unknown> {
    ran('drafts');
    decision?.settle?.(body.used);
    return { featureId: decision?.featureId, requestedUsage: decision?.requestedUsage, remaining: decision?.remaining };
  }

  /** Two features: the handler asks for each by id. */
  @Post('bundle')
  @RequireFeature(TEMPLATES, 1)
  @RequireFeature(ANALYTICS)
  async bundle(
    @EntitlementDecision(ANALYTICS) analytics: Decision | undefined,
    @EntitlementDecision(TEMPLATES) templates: Decision | undefined,
    @EntitlementDecision(CAMPAIGNS) campaigns: Decision | undefined,
  ): Promise<unknown> {
    return {
      analytics: analytics && { featureId: analytics.featureId, granted: analytics.granted, settles: typeof analytics.settle },
      templates: templates && { featureId: templates.featureId, unlimited: templates.hasUnlimitedUsage, settles: typeof templates.settle },
      campaigns: campaigns ?? null,
    };
  }
}

/** Every route needs analytics, but the health check. */
@Controller('reports')
@RequireFeature(ANALYTICS)
class ReportsController {
  @Get('weekly')
  async weekly(): Promise<{ weekly: true }> {
    ran('weekly');
    return { weekly: true };
  }

  @Get('health')
  @SkipEntitlements()
  async health(@EntitlementDecision() decision: Decision | undefined): Promise<{ ok: true; decision: boolean }> {
    ran('health');
    return { ok: true, decision: decision !== undefined };
  }
}

/** Everything of this controller needs templates, but what it skips. */
@Controller('free')
@RequireFeature(TEMPLATES, 1)
@SkipEntitlements()
class FreeController {
  @Post('anything')
  async anything(): Promise<{ ok: true }> {
    ran('anything');
    return { ok: true };
  }
}

/** Only ever booted with useExceptionFilter: false, so no app of this file binds StiggExceptionFilter to its routes. */
@Controller('own')
class OwnFiltersController {
  constructor(private readonly service: InsightsService) {}

  @Get('analytics')
  @RequireFeature(ANALYTICS)
  async analytics(): Promise<{ visitors: number }> {
    ran('own-analytics');
    return { visitors: 1 };
  }

  @Get('insights')
  async insights(): Promise<{ insights: number }> {
    return this.service.insights();
  }
}

/** An app-wide HttpException filter, as an app restyles every error response. */
@Catch(HttpException)
class HouseStyleFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{
      status?: (code: number) => { json: (body: unknown) => void };
      code?: (code: number) => { send: (body: unknown) => void };
    }>();
    const body = { houseStyle: true, status: exception.getStatus(), detail: (exception.getResponse() as { featureId?: string }).featureId };
    if (typeof response.code === 'function') response.code(exception.getStatus()).send(body);
    else response.status?.(exception.getStatus()).json(body);
  }
}

const rig = forSuite(() => startRig());

describe.each(platforms)('Nest parity on %s', (platform) => {
  let app: INestApplication | undefined;
  let warnings: Array<Record<string, unknown>>;

  async function start(
    options: Partial<StiggModuleOptions> = {},
    controllers: Array<new (...args: never[]) => unknown> = [ParityController, ReportsController, FreeController],
    configure?: (nest: INestApplication) => void,
  ): Promise<INestApplication> {
    const logger: Logger = { warn: (meta) => warnings.push(meta), error: () => undefined };
    app = await createApp(
      platform,
      {
        imports: [StiggModule.forRoot({ entitlements: rig.entitlements, customer: customerFromHeader, logger, ...options })],
        controllers,
        providers: [InsightsService],
      },
      configure,
    );
    return app;
  }

  beforeEach(async () => {
    runs.clear();
    warnings = [];
    await rig.next();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers 400 problem+json when a usage function throws on the request, as the other adapters do, and warns once', async () => {
    const nest = await start();
    for (let i = 0; i < 2; i += 1) {
      const bad = await request(nest.getHttpServer()).post('/batch').set('x-customer', 'c-basic').send({});
      expect(bad.status).toBe(400);
      expect(bad.headers['content-type']).toMatch(PROBLEM);
      expect(bad.body).toEqual({
        type: 'urn:stigg-gate:problem:invalid-requested-usage',
        title: 'Invalid requested usage',
        status: 400,
        detail: `The requested usage of feature "${CAMPAIGNS}" must be a number >= 0 and at most 9007199254740991; the request gave a value of type undefined.`,
        featureId: CAMPAIGNS,
      });
    }
    expect(runs.get('batch')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ featureId: CAMPAIGNS });
    expect(warnings[0]?.error).toBeInstanceOf(TypeError);
    const fine = await request(nest.getHttpServer())
      .post('/batch')
      .set('x-customer', 'c-basic')
      .send({ items: [1, 2] });
    expect(fine.status).toBe(201);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(2);
  });

  it("leaves a usage function's own error, and any of a provider method's, to the app: 500, nothing reserved", async () => {
    const nest = await start();
    const broken = await request(nest.getHttpServer()).post('/broken').set('x-customer', 'c-basic');
    expect(broken.status).toBe(500);
    expect(broken.headers['content-type']).not.toMatch(PROBLEM);
    expect(runs.get('broken')).toBeUndefined();
    // A provider method's arguments come from the app: its usage function's TypeError is the app's too.
    const schedule = await request(nest.getHttpServer()).post('/schedule').set('x-customer', 'c-basic');
    expect(schedule.status).toBe(500);
    expect(runs.get('schedule')).toBeUndefined();
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(0);
  });

  it('restyles a 402 with onDenied, from the guard, from the method wrapper and from a service method', async () => {
    const seen: string[] = [];
    const nest = await start({
      onDenied: (decision, ctx, problem) => {
        seen.push(`${ctx.getHandler().name}:${decision.featureId}`);
        return new HttpException({ upgrade: decision.featureId, reason: decision.accessDeniedReason, was: problem.status }, problem.status);
      },
    });
    const guard = await request(nest.getHttpServer()).get('/analytics').set('x-customer', 'c-basic');
    expect(guard.status).toBe(402);
    expect(guard.headers['content-type']).not.toMatch(PROBLEM);
    expect(guard.body).toEqual({ upgrade: ANALYTICS, reason: 'NoFeatureEntitlementInSubscription', was: 402 });
    const wrapper = await request(nest.getHttpServer()).post('/campaigns').set('x-customer', 'c-basic').send({ count: 5 });
    expect(wrapper.status).toBe(402);
    expect(wrapper.body).toEqual({ upgrade: CAMPAIGNS, reason: 'RequestedUsageExceedingLimit', was: 402 });
    const service = await request(nest.getHttpServer()).get('/insights').set('x-customer', 'c-basic');
    expect(service.status).toBe(402);
    expect(service.body).toEqual({ upgrade: ANALYTICS, reason: 'NoFeatureEntitlementInSubscription', was: 402 });
    expect(seen).toEqual(['analytics:' + ANALYTICS, 'campaigns:' + CAMPAIGNS, 'insights:' + ANALYTICS]);
    expect(runs.get('analytics')).toBeUndefined();
    expect(runs.get('campaigns')).toBeUndefined();
    expect(runs.get('insights')).toBeUndefined();
    // Grants and the other problems are untouched.
    expect((await request(nest.getHttpServer()).get('/analytics').set('x-customer', 'c-growth')).status).toBe(200);
    const anonymous = await request(nest.getHttpServer()).get('/analytics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(PROBLEM);
  });

  it('answers problem+json (and warns once) when onDenied returns no exception', async () => {
    const nest = await start({ onDenied: () => undefined });
    for (let i = 0; i < 2; i += 1) {
      const denied = await request(nest.getHttpServer()).get('/analytics').set('x-customer', 'c-basic');
      expect(denied.status).toBe(402);
      expect(denied.headers['content-type']).toMatch(PROBLEM);
    }
    expect(warnings).toEqual([{ featureId: ANALYTICS }]);
  });

  it("leaves denials to the app's own HttpException filter with useExceptionFilter: false", async () => {
    const nest = await start({ useExceptionFilter: false }, [OwnFiltersController], (n) => n.useGlobalFilters(new HouseStyleFilter()));
    const denied = await request(nest.getHttpServer()).get('/own/analytics').set('x-customer', 'c-basic');
    expect(denied.status).toBe(402);
    expect(denied.body).toEqual({ houseStyle: true, status: 402, detail: ANALYTICS });
    const fromService = await request(nest.getHttpServer()).get('/own/insights').set('x-customer', 'c-basic');
    expect(fromService.status).toBe(402);
    expect(fromService.body).toEqual({ houseStyle: true, status: 402, detail: ANALYTICS });
    const anonymous = await request(nest.getHttpServer()).get('/own/analytics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ houseStyle: true, status: 401, detail: ANALYTICS });
    expect(runs.get('own-analytics')).toBeUndefined();
  });

  it("renders the problem body as Nest's default filter does, without an app filter and with useExceptionFilter: false", async () => {
    const nest = await start({ useExceptionFilter: false }, [OwnFiltersController]);
    const denied = await request(nest.getHttpServer()).get('/own/analytics').set('x-customer', 'c-basic');
    expect(denied.status).toBe(402);
    expect(denied.body).toMatchObject({ status: 402, featureId: ANALYTICS, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
  });

  it('hands the handler its decision, and settle(units) reports what the work used', async () => {
    const nest = await start();
    const used = await request(nest.getHttpServer()).post('/drafts').set('x-customer', 'c-five-left').send({ used: 1 });
    expect(used.status).toBe(201);
    // c-five-left: 5 of 10 templates used; the decision is the reservation's (3 asked, 2 left after it).
    expect(used.body).toEqual({ featureId: TEMPLATES, requestedUsage: 3, remaining: 2 });
    expect(await rig.reported('c-five-left', TEMPLATES)).toBe(1);
    // The 2 units not used went back: 4 are left, so a second reservation of 3 fits, and a third does not.
    expect((await request(nest.getHttpServer()).post('/drafts').set('x-customer', 'c-five-left').send({ used: 3 })).status).toBe(201);
    expect((await request(nest.getHttpServer()).post('/drafts').set('x-customer', 'c-five-left').send({ used: 0 })).status).toBe(402);
    expect(await rig.reported('c-five-left', TEMPLATES)).toBe(4);
  });

  it('hands each feature of a route its own decision by id; none for a feature the guard did not check', async () => {
    const nest = await start();
    const both = await request(nest.getHttpServer()).post('/bundle').set('x-customer', 'c-growth');
    expect(both.status).toBe(201);
    expect(both.body).toEqual({
      analytics: { featureId: ANALYTICS, granted: true, settles: 'undefined' },
      templates: { featureId: TEMPLATES, unlimited: true, settles: 'function' }, // growth: unlimited templates, still reported
      campaigns: null,
    });
  });

  it('skips the global guard and the class requirements on a @SkipEntitlements() route or controller', async () => {
    const nest = await start();
    const health = await request(nest.getHttpServer()).get('/reports/health').set('x-customer', 'c-basic');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true, decision: false });
    const anonymous = await request(nest.getHttpServer()).get('/reports/health');
    expect(anonymous.status).toBe(200);
    const weekly = await request(nest.getHttpServer()).get('/reports/weekly').set('x-customer', 'c-basic');
    expect(weekly.status).toBe(402);
    expect(runs.get('weekly')).toBeUndefined();
    expect(runs.get('health')).toBe(2);
    for (let i = 0; i < 4; i += 1) {
      expect((await request(nest.getHttpServer()).post('/free/anything').set('x-customer', 'c-basic')).status).toBe(201);
    }
    expect(runs.get('anything')).toBe(4);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(0);
  });
});
