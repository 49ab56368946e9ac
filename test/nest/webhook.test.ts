import 'reflect-metadata';
import type http from 'node:http';
import { Controller, Inject, Post, Req, Res, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { STIGG_ENTITLEMENTS, SkipEntitlements, StiggModule, stiggWebhook } from 'stigg-gate/nest';
import type { Entitlements } from '../../src/core/types';
import { startRig } from '../decorators/rig';
import { createApp, customerFromHeader, platforms } from './app';
import { forSuite } from '../support/suite';

// stigg-gate/nest's stiggWebhook (issue 24: every adapter exports one), on both platforms: the
// secret before the body, the customer invalidated, problems for the rest, as the other adapters.

const SECRET = 'whsec-nest-0123456789';
const event = (customerId: string, eventId: string) => ({
  type: 'entitlements.updated',
  customer: { id: customerId },
  entitlements: [],
  timestamp: new Date().toISOString(),
  eventId,
});

const invalidated: string[] = [];

@Controller('webhooks')
class WebhookController {
  private readonly webhook: (req: unknown, res: unknown) => Promise<void>;
  constructor(@Inject(STIGG_ENTITLEMENTS) entitlements: Entitlements) {
    this.webhook = stiggWebhook({ entitlements, secret: SECRET });
  }

  @Post('stigg')
  @SkipEntitlements()
  receive(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    return this.webhook(req, res);
  }
}

const rig = forSuite(() => startRig());

describe.each(platforms)('stigg-gate/nest on %s: stiggWebhook', (platform) => {
  let app: INestApplication | undefined;
  let server: http.Server;
  beforeEach(async () => {
    await rig.next();
    invalidated.length = 0;
    const invalidate = rig.entitlements.invalidate.bind(rig.entitlements);
    rig.entitlements.invalidate = (customerId: string) => (invalidated.push(customerId), invalidate(customerId));
    app = await createApp(platform, {
      imports: [StiggModule.forRoot({ entitlements: rig.entitlements, customer: customerFromHeader })],
      controllers: [WebhookController],
    });
    server = app.getHttpServer() as http.Server;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  test('the secret matches: the customer is invalidated (200)', async () => {
    const res = await request(server)
      .post('/webhooks/stigg')
      .set('stigg-webhooks-secret', SECRET)
      .send(event('c-basic', 'e-1'))
      .expect(200);
    expect(res.body).toEqual({ received: true, action: 'invalidated', customerId: 'c-basic' });
    expect(invalidated).toEqual(['c-basic']);
  });

  test('no secret or another one: 401 problem+json, nothing invalidated', async () => {
    for (const secret of [undefined, `${SECRET}x`]) {
      const sent = request(server).post('/webhooks/stigg');
      const res = await (secret === undefined ? sent : sent.set('stigg-webhooks-secret', secret)).send(event('c-basic', 'e-2'));
      expect([res.status, res.headers['content-type'], res.body.type]).toEqual([
        401,
        'application/problem+json; charset=utf-8',
        'urn:stigg-gate:problem:webhook-unauthorized',
      ]);
    }
    expect(invalidated).toEqual([]);
  });

  test('a malformed event: 400', async () => {
    const res = await request(server).post('/webhooks/stigg').set('stigg-webhooks-secret', SECRET).send({ type: 'entitlements.updated' });
    expect([res.status, res.body.type]).toEqual([400, 'urn:stigg-gate:problem:webhook-malformed']);
    expect(invalidated).toEqual([]);
  });
});
