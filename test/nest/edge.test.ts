import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Controller,
  Head,
  Injectable,
  Post,
  Sse,
  UseGuards,
  type CanActivate,
  type INestApplication,
  type MessageEvent,
} from '@nestjs/common';
import { Observable, of } from 'rxjs';
import request from 'supertest';
import { createEntitlements } from 'stigg-gate';
import type { Logger } from 'stigg-gate';
import { RequireFeature } from 'stigg-gate/decorators';
import { StiggModule } from 'stigg-gate/nest';
import { TEMPLATES, startRig } from '../decorators/rig';
import { GatedController, ReportService, createApp, customerFromHeader, platforms, runs } from './app';
import { forSuite } from '../support/suite';

const rig = forSuite(() => startRig());
beforeEach(async () => {
  runs.clear();
  await rig.next();
});

@Injectable()
class RefuseGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Controller('edge')
class EdgeController {
  @Sse('events')
  @RequireFeature(TEMPLATES, 1)
  async events(): Promise<Observable<MessageEvent>> {
    return of({ data: 'first' }, { data: 'second' });
  }

  @Sse('endless')
  @RequireFeature(TEMPLATES, 1)
  async endless(): Promise<Observable<MessageEvent>> {
    return new Observable<MessageEvent>((subscriber) => {
      subscriber.next({ data: 'hello' });
    });
  }

  @Post('refused')
  @UseGuards(RefuseGuard)
  @RequireFeature(TEMPLATES, 1)
  async refused(): Promise<void> {
    runs.set('refused', 1);
  }

  @Post('missing-feature')
  @RequireFeature('feature-99-missing')
  async missing(): Promise<void> {}

  @Head('export-head')
  @RequireFeature(TEMPLATES, 1)
  async exportHead(): Promise<void> {}

  @Post('site-templates')
  @RequireFeature(TEMPLATES, 1)
  async siteTemplates(): Promise<{ ok: true }> {
    return { ok: true };
  }
}

/** Reads the stream until its first event, then drops the connection. */
function readOneEventAndLeave(app: INestApplication, path: string): Promise<string> {
  const server = app.getHttpServer() as http.Server;
  if (!server.listening) server.listen(0, '127.0.0.1');
  return new Promise((resolve, reject) => {
    const go = () => {
      const { port } = server.address() as AddressInfo;
      let received = '';
      const req = http.get({ host: '127.0.0.1', port, path, headers: { 'x-customer': 'c-basic' } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          received += chunk;
          if (!received.includes('data: ')) return;
          req.destroy();
          resolve(received);
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    };
    if (server.listening) go();
    else server.once('listening', go);
  });
}

async function templatesLeft(app: INestApplication): Promise<number> {
  let granted = 0;
  for (let i = 0; i < 4; i += 1) {
    if ((await request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic')).status === 201) granted += 1;
  }
  return granted;
}

describe.each(platforms)('stigg-gate/nest edge cases on %s', (platform) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(options: Record<string, unknown> = {}): Promise<INestApplication> {
    app = await createApp(platform, {
      imports: [StiggModule.forRoot({ entitlements: rig.entitlements, customer: customerFromHeader, ...options })],
      controllers: [GatedController, EdgeController],
      providers: [ReportService, RefuseGuard],
    });
    return app;
  }

  it('commits an SSE stream once it was delivered to the end', async () => {
    const nest = await start();
    const events = await request(nest.getHttpServer()).get('/edge/events').set('x-customer', 'c-basic');
    expect(events.status).toBe(200);
    expect(events.text).toContain('data: first');
    expect(events.text).toContain('data: second');
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(1);
  });

  it('charges an SSE client that leaves mid-stream: the work was done (onAbort commit, the default)', async () => {
    const nest = await start();
    expect(await readOneEventAndLeave(nest, '/edge/endless')).toContain('data: hello');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await templatesLeft(nest)).toBe(2);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(3);
  });

  it("gives the units of an SSE stream the client left back with onAbort: 'release'", async () => {
    const nest = await start({ onAbort: 'release' });
    expect(await readOneEventAndLeave(nest, '/edge/endless')).toContain('data: hello');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await templatesLeft(nest)).toBe(3);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(3);
  });

  it('releases the units when a later guard of the route refuses the request', async () => {
    const nest = await start();
    expect((await request(nest.getHttpServer()).post('/edge/refused').set('x-customer', 'c-basic')).status).toBe(403);
    expect(runs.get('refused')).toBeUndefined();
    expect(await templatesLeft(nest)).toBe(3);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(3);
  });

  it('answers 503 problem+json with Retry-After when no decision can be made (fail-closed)', async () => {
    const nest = await start();
    rig.emulator.setFaults({ failureRate: 1 });
    const unavailable = await request(nest.getHttpServer()).post('/templates').set('x-customer', 'c-basic');
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unavailable.headers['retry-after']).toBe('5');
    expect(unavailable.body).toMatchObject({ status: 503, title: 'Entitlements unavailable', featureId: TEMPLATES });
    expect(runs.get('createTemplate')).toBeUndefined();
  });

  it('logs a misconfiguration once per feature and reason', async () => {
    const warnings: unknown[] = [];
    const logger: Logger = { warn: (meta) => warnings.push(meta), error: () => undefined };
    const nest = await start({ logger });
    for (let i = 0; i < 2; i += 1) {
      const denied = await request(nest.getHttpServer()).post('/edge/missing-feature').set('x-customer', 'c-basic');
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ accessDeniedReason: 'FeatureNotFound' });
    }
    expect(warnings).toEqual([{ featureId: 'feature-99-missing', accessDeniedReason: 'FeatureNotFound' }]);
  });

  it('checks the resource the resource resolver names', async () => {
    const nest = await start({
      resource: (ctx: { switchToHttp(): { getRequest(): { headers: Record<string, string> } } }) =>
        ctx.switchToHttp().getRequest().headers['x-site'],
    });
    const granted = await request(nest.getHttpServer()).post('/edge/site-templates').set('x-customer', 'c-sites').set('x-site', 'site-1');
    expect(granted.status).toBe(201);
    const otherSite = await request(nest.getHttpServer()).post('/edge/site-templates').set('x-customer', 'c-sites').set('x-site', 'site-2');
    expect(otherSite.status).toBe(403);
    expect(otherSite.body).toMatchObject({ accessDeniedReason: 'CustomerResourceNotFound' });
    expect(await rig.reported('c-sites', TEMPLATES, 'site-1')).toBe(1);
  });

  it("without StiggGuard, the method wrapper enforces a gated controller route inside the interceptor's context, once", async () => {
    const nest = await start({ useGlobalGuard: false });
    expect((await request(nest.getHttpServer()).get('/analytics').set('x-customer', 'c-basic')).status).toBe(402);
    expect(runs.get('analytics')).toBeUndefined();
    expect((await request(nest.getHttpServer()).post('/failing').set('x-customer', 'c-basic')).status).toBe(500);
    expect(await templatesLeft(nest)).toBe(3);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(3);
  });

  it('answers 401 problem+json for a blank customer id before any work, and 400 for a bad resource id', async () => {
    const nest = await start({ resource: () => 'x'.repeat(300) });
    const blank = await request(nest.getHttpServer()).post('/templates').set('x-customer', '   ');
    expect(blank.status).toBe(401);
    expect(blank.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(blank.body).toMatchObject({ status: 401, featureId: TEMPLATES });
    const longResource = await request(nest.getHttpServer()).post('/templates').set('x-customer', 'c-basic');
    expect(longResource.status).toBe(400);
    expect(runs.get('createTemplate')).toBeUndefined();
  });

  it('meters a HEAD request like any other: its handler runs', async () => {
    const nest = await start();
    const statuses = [];
    for (let i = 0; i < 5; i += 1)
      statuses.push((await request(nest.getHttpServer()).head('/edge/export-head').set('x-customer', 'c-basic')).status);
    expect(statuses).toEqual([200, 200, 200, 402, 402]);
    expect(await templatesLeft(nest)).toBe(0);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(3);
  });

  it('owns nothing it was not given: a second app on the same instance keeps working after the first closes', async () => {
    const entitlements = createEntitlements({ client: rig.client });
    try {
      const first = await createApp(platform, {
        imports: [StiggModule.forRoot({ entitlements, customer: customerFromHeader })],
        controllers: [GatedController],
        providers: [ReportService],
      });
      await first.close();
      const nest = await createApp(platform, {
        imports: [StiggModule.forRoot({ entitlements, customer: customerFromHeader })],
        controllers: [GatedController],
        providers: [ReportService],
      });
      app = nest;
      expect((await request(nest.getHttpServer()).get('/analytics').set('x-customer', 'c-growth')).status).toBe(200);
    } finally {
      await app?.close();
      app = undefined;
      await entitlements.close();
    }
  });
});
