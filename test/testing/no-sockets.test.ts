import 'reflect-metadata';
import net from 'node:net';
import { Controller, Get, Injectable, Module, Post, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import express from 'express';
import { RequireFeature, withCustomer } from 'stigg-gate/decorators';
import { entitlementErrorHandler, requireFeature, stigg } from 'stigg-gate/express';
import { StiggModule } from 'stigg-gate/nest';
import { createTestEntitlements, inject, type TestEntitlements } from 'stigg-gate/testing';

/*
 * The kit opens no socket. net.Socket.prototype.connect (every outbound connection: net.connect,
 * http.request, fetch) and net.Server.prototype.listen (every server, supertest's included) throw for
 * the whole file, and requests reach the apps in memory (inject() of stigg-gate/testing: a request and
 * a response with a stream where the socket would be). A gated Express route, a Nest controller and a decorated service.
 */

const opened: string[] = [];
let restore: () => void;

beforeAll(() => {
  const connect = jest.spyOn(net.Socket.prototype, 'connect').mockImplementation(function blocked(): never {
    opened.push('connect');
    throw new Error('a socket was opened');
  });
  const listen = jest.spyOn(net.Server.prototype, 'listen').mockImplementation(function blocked(): never {
    opened.push('listen');
    throw new Error('a server was started');
  });
  restore = () => {
    connect.mockRestore();
    listen.mockRestore();
  };
});

afterAll(() => restore());

afterEach(() => {
  expect(opened).toEqual([]);
});

const customers = {
  'cust-basic': { 'feature-01-templates': { limit: 3, used: 1 }, 'feature-04-analytics': false },
  'cust-pro': { 'feature-01-templates': 'unlimited', 'feature-04-analytics': true },
} as const;

describe('a gated Express route', () => {
  let kit: TestEntitlements;
  let app: express.Express;
  let ran = 0;

  beforeEach(() => {
    ran = 0;
    kit = createTestEntitlements({ customers });
    app = express();
    app.use(stigg({ entitlements: kit, customer: (req) => req.header('x-customer') }));
    app.post('/templates', requireFeature('feature-01-templates', 1), (_req, res) => {
      ran += 1;
      res.status(201).json({ created: true });
    });
    app.get('/analytics', requireFeature('feature-04-analytics'), (_req, res) => {
      ran += 1;
      res.json({ visitors: 1234 });
    });
    app.use(entitlementErrorHandler());
  });

  afterEach(() => kit.close());

  const post = (customer: string) => inject(app, { method: 'POST', url: '/templates', headers: { 'x-customer': customer } });

  it('serves and reports the unit after success', async () => {
    const res = await post('cust-basic');
    expect(res.statusCode).toBe(201);
    kit.expectReported({ customerId: 'cust-basic', featureId: 'feature-01-templates', value: 1 });
  });

  it('answers 402 with the upgrade body on the 3rd template of the basic plan, without running the handler', async () => {
    expect((await post('cust-basic')).statusCode).toBe(201);
    expect((await post('cust-basic')).statusCode).toBe(201);
    const res = await post('cust-basic');
    expect(res.statusCode).toBe(402);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      status: 402,
      featureId: 'feature-01-templates',
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      usageLimit: 3,
      currentUsage: 3,
    });
    expect(ran).toBe(2);
    kit.expectReported({ customerId: 'cust-basic', featureId: 'feature-01-templates', value: 2 });
  });

  it('answers 402 for a feature the plan lacks and 200 for one it has', async () => {
    const headers = (customer: string) => ({ 'x-customer': customer });
    expect((await inject(app, { url: '/analytics', headers: headers('cust-basic') })).statusCode).toBe(402);
    expect((await inject(app, { url: '/analytics', headers: headers('cust-pro') })).statusCode).toBe(200);
  });

  it('answers 503 with Retry-After when Stigg cannot be reached', async () => {
    kit.failNext('network');
    const res = await post('cust-pro');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(ran).toBe(0);
  });
});

@Injectable()
class ReportService {
  @RequireFeature('feature-04-analytics')
  async monthly(): Promise<{ visits: number }> {
    return { visits: 42 };
  }
}

@Controller()
class TemplatesController {
  constructor(private readonly reports: ReportService) {}

  @Post('templates')
  @RequireFeature('feature-01-templates', 1)
  async create(): Promise<{ created: true }> {
    return { created: true };
  }

  @Get('reports')
  async monthly(): Promise<{ visits: number }> {
    return this.reports.monthly();
  }
}

function customerFromHeader(context: ExecutionContext): string | undefined {
  const value: unknown = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers['x-customer'];
  return typeof value === 'string' ? value : undefined;
}

describe('a Nest controller', () => {
  let kit: TestEntitlements;
  let app: INestApplication;

  beforeAll(async () => {
    kit = createTestEntitlements({ customers });
    @Module({
      imports: [StiggModule.forRoot({ entitlements: kit, customer: customerFromHeader })],
      controllers: [TemplatesController],
      providers: [ReportService],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    await kit.close();
  });

  beforeEach(() => kit.clearRecords());

  const send = (method: 'GET' | 'POST', url: string, customer: string) =>
    inject(app.getHttpAdapter().getInstance(), { method, url, headers: { 'x-customer': customer } });

  it('serves and reports, then answers 402 past the limit', async () => {
    expect((await send('POST', '/templates', 'cust-basic')).statusCode).toBe(201);
    expect((await send('POST', '/templates', 'cust-basic')).statusCode).toBe(201);
    const denied = await send('POST', '/templates', 'cust-basic');
    expect(denied.statusCode).toBe(402);
    expect(denied.json()).toMatchObject({ accessDeniedReason: 'RequestedUsageExceedingLimit' });
    kit.expectReported({ customerId: 'cust-basic', featureId: 'feature-01-templates', value: 2 });
  });

  it('gates a decorated service method the controller calls', async () => {
    expect((await send('GET', '/reports', 'cust-pro')).json()).toEqual({ visits: 42 });
    expect((await send('GET', '/reports', 'cust-basic')).statusCode).toBe(402);
    expect(kit.decisions({ featureId: 'feature-04-analytics' }).map((d) => d.customerId)).toEqual(['cust-pro', 'cust-basic']);
  });
});

describe('a decorated service outside a request', () => {
  it('runs for a customer entitled and rejects for one who is not', async () => {
    const kit = createTestEntitlements({ customers });
    const service = new ReportService();
    await expect(withCustomer({ entitlements: kit, customerId: 'cust-pro' }, () => service.monthly())).resolves.toEqual({ visits: 42 });
    await expect(withCustomer({ entitlements: kit, customerId: 'cust-basic' }, () => service.monthly())).rejects.toMatchObject({
      name: 'EntitlementDeniedError',
      decision: { accessDeniedReason: 'NoFeatureEntitlementInSubscription' },
    });
    await kit.close();
  });
});

describe('the block', () => {
  it('catches a socket: a fetch to anywhere is refused and counted', async () => {
    await expect(fetch('http://127.0.0.1:65530/')).rejects.toThrow();
    expect(opened).toEqual(['connect']);
    opened.length = 0;
  });
});
