/**
 * requestedValues through Nest (issue 22): a constant list checked by the guard, a function of the
 * body checked by the method's wrapper; entitled values pass, others answer 403 naming the values not
 * entitled, and values that are not a short list of ids answer 400 invalid-requested-values (not
 * invalid-requested-usage), without echoing them.
 */
import 'reflect-metadata';
import { Body, Controller, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { StiggModule } from 'stigg-gate/nest';
import { RequireFeature } from 'stigg-gate/decorators';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import { createApp, customerFromHeader, platforms } from '../nest/app';
import { forSuite } from '../support/suite';

const MODEL = 'feature-09-model';
const catalog: Catalog = {
  ...defaultCatalog,
  features: [...defaultCatalog.features, { id: MODEL, featureType: 'ENUM', enumValues: ['small', 'large', 'gpt-4o'] }],
  plans: [
    ...defaultCatalog.plans,
    { id: 'plan-ai', productId: 'product-revvenu', pricingType: 'FREE', entitlements: [{ featureId: MODEL, enumValues: ['small'] }] },
  ],
  customers: [{ id: 'cust-ai', subscriptions: [{ planId: 'plan-ai' }] }],
};

@Controller()
class ChatController {
  @Post('small')
  @RequireFeature(MODEL, { requestedValues: ['small'] })
  async small(): Promise<{ ok: true }> {
    return { ok: true };
  }

  @Post('big')
  @RequireFeature(MODEL, { requestedValues: ['gpt-4o'] })
  async big(): Promise<{ ok: true }> {
    return { ok: true };
  }

  @Post('chat')
  @RequireFeature(MODEL, { requestedValues: (body: { models: string[] }) => body.models })
  async chat(@Body() _body: { models: string[] }): Promise<{ ok: true }> {
    return { ok: true };
  }
}

const emu = forSuite(() => startEmulator({ port: 0, catalog }));

describe.each(platforms)('stigg-gate/nest on %s', (platform) => {
  let entitlements: Entitlements;
  let app: INestApplication;
  beforeEach(async () => {
    entitlements = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }) });
    app = await createApp(platform, {
      imports: [StiggModule.forRoot({ entitlements, customer: customerFromHeader })],
      controllers: [ChatController],
    });
  });
  afterEach(async () => {
    await app.close();
    await entitlements.close();
  });

  const post = (path: string, body: object = {}) => request(app.getHttpServer()).post(path).set('x-customer', 'cust-ai').send(body);

  it('a constant list: entitled passes, not entitled answers 403 naming the values', async () => {
    await post('/small').expect(201);
    expect((await post('/big').expect(403)).body).toMatchObject({
      accessDeniedReason: 'RequestedValuesMismatch',
      requestedValues: ['gpt-4o'],
      valuesNotEntitled: ['gpt-4o'],
    });
  });

  it('a function of the body: entitled passes, not entitled 403, not a list of ids 400 without echo', async () => {
    await post('/chat', { models: ['small'] }).expect(201);
    expect((await post('/chat', { models: ['small', 'gpt-4o'] }).expect(403)).body).toMatchObject({ valuesNotEntitled: ['gpt-4o'] });
    const invalid = await post('/chat', { models: '<script>' + 'x'.repeat(40) }).expect(400);
    expect(invalid.body).toMatchObject({ type: 'urn:stigg-gate:problem:invalid-requested-values', featureId: MODEL });
    expect(invalid.text).not.toContain('<script>');
  });
});
