import 'reflect-metadata';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Post,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import { StiggClient, type Entitlements } from 'stigg-gate';
import { RequireFeature } from 'stigg-gate/decorators';
import { STIGG_ENTITLEMENTS, StiggGuard, StiggModule } from 'stigg-gate/nest';
import { ANALYTICS, TEMPLATES, startRig } from '../decorators/rig';
import { GatedController, ReportService, createApp, customerFromHeader, platforms, runs } from './app';
import { forSuite } from '../support/suite';

const rig = forSuite(() => startRig());
beforeEach(async () => {
  runs.clear();
  await rig.next();
});

function usage(customerId: string, featureId: string): number {
  return rig.emulator.stats().usage[`${customerId}||${featureId}`] ?? 0;
}

/** A ConfigService stand-in, as @nestjs/config provides it. */
@Injectable()
class ConfigService {
  constructor(private readonly values: Record<string, string>) {}
  get(key: string): string {
    const value = this.values[key];
    if (value === undefined) throw new Error(`no config ${key}`);
    return value;
  }
}

/** Authentication as a guard of the app: sets req.user from a bearer token. */
@Injectable()
class BearerAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; user?: { customerId: string } }>();
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token !== undefined) req.user = { customerId: token };
    return true;
  }
}

function customerFromUser(context: ExecutionContext): string | undefined {
  return context.switchToHttp().getRequest<{ user?: { customerId: string } }>().user?.customerId;
}

@Controller('guarded')
@UseGuards(BearerAuthGuard, StiggGuard)
class GuardedController {
  @Post('templates')
  @RequireFeature(TEMPLATES, 1)
  async create(): Promise<{ created: true }> {
    runs.set('guarded', (runs.get('guarded') ?? 0) + 1);
    return { created: true };
  }
}

@Injectable()
class UsesEntitlements {
  constructor(@Inject(STIGG_ENTITLEMENTS) readonly entitlements: Entitlements) {}
}

@Controller('other')
class OtherController {
  constructor(private readonly user: UsesEntitlements) {}

  @Get('analytics')
  @RequireFeature(ANALYTICS)
  async analytics(): Promise<{ same: boolean }> {
    return { same: typeof this.user.entitlements.acquire === 'function' };
  }
}

@Module({ controllers: [OtherController], providers: [UsesEntitlements] })
class OtherModule {}

describe.each(platforms)('StiggModule on %s', (platform) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('creates and owns the entitlements from client options, and app.close() flushes pending usage to Stigg', async () => {
    app = await createApp(platform, {
      imports: [StiggModule.forRoot({ client: rig.client, customer: customerFromHeader, usage: { flushIntervalMs: 60_000 } })],
      controllers: [GatedController],
      providers: [ReportService],
    });
    for (let i = 0; i < 2; i += 1) {
      expect((await request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic')).status).toBe(201);
    }
    const owned = app.get<Entitlements>(STIGG_ENTITLEMENTS);
    expect(owned).not.toBe(rig.entitlements);
    expect(usage('c-basic', TEMPLATES)).toBe(0);
    await app.close();
    app = undefined;
    expect(usage('c-basic', TEMPLATES)).toBe(2);
    expect(() => owned.acquire({ customerId: 'c-basic', featureId: TEMPLATES })).toThrow(/after entitlements.close/);
  });

  it('flushes, but does not close, an instance it was given', async () => {
    app = await createApp(platform, {
      imports: [StiggModule.forRoot({ entitlements: rig.entitlements, customer: customerFromHeader })],
      controllers: [GatedController],
      providers: [ReportService],
    });
    expect((await request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic')).status).toBe(201);
    await app.close();
    app = undefined;
    expect(usage('c-basic', TEMPLATES)).toBe(1);
    const lease = await rig.entitlements.acquire({ customerId: 'c-basic', featureId: TEMPLATES, requestedUsage: 1 });
    expect(lease.decision.granted).toBe(true);
    lease.release();
  });

  it('forRootAsync builds the options from injected providers (ConfigService style); isGlobal exposes the token to other modules', async () => {
    @Module({
      providers: [
        {
          provide: ConfigService,
          useValue: new ConfigService({ STIGG_SERVER_API_KEY: rig.emulator.apiKey, STIGG_API_URL: rig.emulator.url }),
        },
      ],
      exports: [ConfigService],
    })
    class ConfigModule {}

    app = await createApp(platform, {
      imports: [
        StiggModule.forRootAsync({
          isGlobal: true,
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            client: new StiggClient({
              apiKey: config.get('STIGG_SERVER_API_KEY'),
              apiUrl: config.get('STIGG_API_URL'),
            }),
            customer: customerFromHeader,
            usage: { flushIntervalMs: 60_000 },
          }),
        }),
        OtherModule,
      ],
    });
    const granted = await request(app.getHttpServer()).get('/other/analytics').set('x-customer', 'c-growth');
    expect(granted.status).toBe(200);
    expect(granted.body).toEqual({ same: true });
    expect((await request(app.getHttpServer()).get('/other/analytics').set('x-customer', 'c-basic')).status).toBe(402);
    expect(app.get(UsesEntitlements).entitlements).toBe(app.get(STIGG_ENTITLEMENTS));
  });

  it('runs after an authentication guard of the app when placed with @UseGuards(AuthGuard, StiggGuard) and useGlobalGuard: false', async () => {
    app = await createApp(platform, {
      imports: [StiggModule.forRoot({ entitlements: rig.entitlements, customer: customerFromUser, useGlobalGuard: false })],
      controllers: [GuardedController],
      providers: [BearerAuthGuard],
    });
    expect((await request(app.getHttpServer()).post('/guarded/templates').set('authorization', 'Bearer c-basic')).status).toBe(201);
    expect((await request(app.getHttpServer()).post('/guarded/templates')).status).toBe(401);
    expect(runs.get('guarded')).toBe(1);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(1);
  });

  it("runs after the app's own global authentication guard (APP_GUARD in the app's module)", async () => {
    app = await createApp(platform, {
      imports: [StiggModule.forRoot({ entitlements: rig.entitlements, customer: customerFromUser })],
      controllers: [GatedController],
      providers: [ReportService, { provide: APP_GUARD, useClass: BearerAuthGuard }],
    });
    expect((await request(app.getHttpServer()).post('/templates').set('authorization', 'Bearer c-basic')).status).toBe(201);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(1);
  });
});

describe('StiggModule options', () => {
  async function boot(imports: unknown[]): Promise<INestApplication> {
    return createApp('express', {
      imports: imports as never[],
      controllers: [GatedController],
      providers: [ReportService],
    });
  }

  it('rejects an unknown option with a did-you-mean', async () => {
    await expect(boot([StiggModule.forRoot({ entitlements: rig.entitlements, customers: customerFromHeader } as never)])).rejects.toThrow(
      /"customers" is not an option of StiggModule.forRoot\(\). Did you mean "customer"\?/,
    );
  });

  it('needs either an instance or a client, not both', async () => {
    await expect(boot([StiggModule.forRoot({ customer: customerFromHeader } as never)])).rejects.toThrow(
      /needs either entitlements .* or client/,
    );
    await expect(boot([StiggModule.forRoot({ entitlements: rig.entitlements, client: rig.client } as never)])).rejects.toThrow(
      /both an entitlements instance and createEntitlements\(\) options \(client\)/,
    );
  });

  it('checks functions, the status mapping and the module switches', async () => {
    await expect(boot([StiggModule.forRoot({ entitlements: rig.entitlements, customer: 'user.id' as never })])).rejects.toThrow(
      /"user.id" is not a valid value for customer/,
    );
    await expect(boot([StiggModule.forRoot({ entitlements: rig.entitlements, statusMapping: { Revoked: 200 } })])).rejects.toThrow(
      /integer from 400 to 599/,
    );
    expect(() => StiggModule.forRoot({ entitlements: rig.entitlements, isGlobal: 'yes' as never })).toThrow(
      /"yes" is not a valid value for isGlobal/,
    );
  });

  it('forRootAsync needs a factory, and the module switches outside it', async () => {
    expect(() => StiggModule.forRootAsync({} as never)).toThrow(/needs \{ useFactory, inject\?, imports\? \}/);
    expect(() => StiggModule.forRootAsync({ useFactory: () => ({ entitlements: rig.entitlements }), useFactroy: 1 } as never)).toThrow(
      /Did you mean "useFactory"/,
    );
    // The factory's type refuses the switches (test/nest/type-tests.ts); a JavaScript caller gets the run-time error.
    const useFactory = () => ({ entitlements: rig.entitlements, isGlobal: true }) as never;
    await expect(boot([StiggModule.forRootAsync({ useFactory })])).rejects.toThrow(/isGlobal is an option of StiggModule.forRootAsync/);
  });

  it('applies statusMapping to denials', async () => {
    const app = await boot([
      StiggModule.forRoot({
        entitlements: rig.entitlements,
        customer: customerFromHeader,
        statusMapping: { NoFeatureEntitlementInSubscription: 403 },
      }),
    ]);
    try {
      const denied = await request(app.getHttpServer()).get('/analytics').set('x-customer', 'c-basic');
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ status: 403, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
      const fromService = await request(app.getHttpServer()).get('/report').set('x-customer', 'c-basic');
      expect(fromService.status).toBe(403);
    } finally {
      await app.close();
    }
  });
});
