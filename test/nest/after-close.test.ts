import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createEntitlements } from 'stigg-gate';
import { StiggModule } from 'stigg-gate/nest';
import { ANALYTICS, TEMPLATES, startRig } from '../decorators/rig';
import { GatedController, ReportService, createApp, customerFromHeader, platforms, runs } from './app';
import { forSuite } from '../support/suite';

// After entitlements.close() (the app shutting down), the guard and decorated service methods
// answer 503 problem+json with Retry-After, as the other adapters do: never a 500.

const rig = forSuite(() => startRig());

describe.each(platforms)('stigg-gate/nest on %s after close()', (platform) => {
  let app: INestApplication;
  afterEach(async () => {
    await app?.close();
  });

  it('answers 503 problem+json with Retry-After from the guard and from a decorated service method', async () => {
    runs.clear();
    rig.emulator.reset();
    const entitlements = createEntitlements({ client: rig.client, retryAfterSeconds: 7 });
    app = await createApp(platform, {
      imports: [StiggModule.forRoot({ entitlements, customer: customerFromHeader })],
      controllers: [GatedController],
      providers: [ReportService],
    });
    await request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic').expect(201);
    await entitlements.close();
    const guarded = await request(app.getHttpServer()).post('/templates').set('x-customer', 'c-basic');
    expect(guarded.status).toBe(503);
    expect(guarded.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(guarded.headers['retry-after']).toBe('7');
    expect(guarded.body).toMatchObject({ type: 'urn:stigg-gate:problem:entitlements-closed', status: 503, featureId: TEMPLATES });
    expect(runs.get('createTemplate')).toBe(1);
    const serviced = await request(app.getHttpServer()).get('/report').set('x-customer', 'c-growth');
    expect(serviced.status).toBe(503);
    expect(serviced.headers['retry-after']).toBe('7');
    expect(serviced.body).toMatchObject({ type: 'urn:stigg-gate:problem:entitlements-closed', featureId: ANALYTICS });
  });
});
