import 'reflect-metadata';
import type http from 'node:http';
import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { RequireFeature } from 'stigg-gate/decorators';
import { StiggModule } from 'stigg-gate/nest';
import { ANALYTICS, CAMPAIGNS, TEMPLATES, startRig } from '../decorators/rig';
import { createApp, customerFromHeader, platforms } from './app';
import { forSuite } from '../support/suite';

// Opt-in IETF RateLimit fields on Nest (issue 27): the same fields as on the other adapters
// (test/middleware/rate-limit-headers.test.ts), for the routes the guard checks, on both platforms.
// c-basic: 3 templates (no reset), 4 campaigns a month, no analytics.

const CUSTOMER = 'c-basic';
const MONTH_S = 31 * 86_400;

@Controller()
class MeteredController {
  @Post('templates')
  @RequireFeature(TEMPLATES, 1)
  async create(): Promise<{ ok: true }> {
    return { ok: true };
  }

  @Post('campaigns')
  @RequireFeature(CAMPAIGNS, 3)
  async campaign(): Promise<{ ok: true }> {
    return { ok: true };
  }

  @Get('analytics')
  @RequireFeature(ANALYTICS)
  async analytics(): Promise<{ ok: true }> {
    return { ok: true };
  }
}

function parse(field: unknown): { policy: string; r: number; t: number | undefined } | undefined {
  const match = /^"([^"]+)";r=(\d+)(?:;t=(\d+))?$/.exec(typeof field === 'string' ? field : '');
  return match === null ? undefined : { policy: match[1]!, r: Number(match[2]), t: match[3] === undefined ? undefined : Number(match[3]) };
}

const rig = forSuite(() => startRig());

describe.each(platforms)('stigg-gate/nest on %s: RateLimit fields (opt-in)', (platform) => {
  let app: INestApplication | undefined;
  beforeEach(async () => {
    await rig.next();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(rateLimitHeaders?: boolean): Promise<http.Server> {
    app = await createApp(platform, {
      imports: [
        StiggModule.forRoot({
          entitlements: rig.entitlements,
          customer: customerFromHeader,
          ...(rateLimitHeaders === undefined ? {} : { rateLimitHeaders }),
        }),
      ],
      controllers: [MeteredController],
    });
    const server = app.getHttpServer() as http.Server;
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  test('on: each grant says what is left; the denial past the limit says 0; no reset, no t', async () => {
    const server = await start(true);
    const states = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await request(server).post('/templates').set('x-customer', CUSTOMER).expect(201);
      expect(res.headers['ratelimit-policy']).toBe('"feature-01-templates";q=3');
      states.push(parse(res.headers['ratelimit']));
    }
    expect(states).toEqual([2, 1, 0].map((r) => ({ policy: TEMPLATES, r, t: undefined })));
    const denied = await request(server).post('/templates').set('x-customer', CUSTOMER).expect(402);
    expect(denied.headers['ratelimit-policy']).toBe('"feature-01-templates";q=3');
    expect(parse(denied.headers['ratelimit'])).toEqual({ policy: TEMPLATES, r: 0, t: undefined });
  });

  test('a feature that resets monthly: t is the seconds to the end of its usage period', async () => {
    const server = await start(true);
    const res = await request(server).post('/campaigns').set('x-customer', CUSTOMER).expect(201);
    expect(res.headers['ratelimit-policy']).toBe('"feature-02-campaigns";q=4');
    const state = parse(res.headers['ratelimit']);
    expect(state).toMatchObject({ policy: CAMPAIGNS, r: 1 });
    expect(state!.t).toBeGreaterThan(0);
    expect(state!.t).toBeLessThanOrEqual(MONTH_S);
  });

  test.each([undefined, false])('rateLimitHeaders %s: no fields, granted or denied', async (option) => {
    const server = await start(option);
    const granted = await request(server).post('/campaigns').set('x-customer', CUSTOMER).expect(201);
    const denied = await request(server).post('/campaigns').set('x-customer', CUSTOMER).expect(402);
    for (const res of [granted, denied]) {
      expect(res.headers['ratelimit']).toBeUndefined();
      expect(res.headers['ratelimit-policy']).toBeUndefined();
    }
  });

  test('a boolean feature gets no fields', async () => {
    const server = await start(true);
    const res = await request(server).get('/analytics').set('x-customer', CUSTOMER).expect(402);
    expect(res.headers['ratelimit']).toBeUndefined();
  });
});

test('rateLimitHeaders takes a boolean: the module fails to boot otherwise', async () => {
  const module = StiggModule.forRoot({ entitlements: rig.entitlements, rateLimitHeaders: 'yes' as never });
  await expect(createApp('express', { imports: [module], controllers: [MeteredController] })).rejects.toThrow(
    /"yes" is not a valid value for rateLimitHeaders in StiggModule\.forRoot\(\)\. Please choose true or false\./,
  );
});
