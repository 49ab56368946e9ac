import 'reflect-metadata';
import type http from 'node:http';
import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { RequireFeature } from 'stigg-gate/decorators';
import { StiggModule } from 'stigg-gate/nest';
import type { Decision } from '../../src/core/types';
import { instrument } from '../../src/otel';
import { ANALYTICS, TEMPLATES, startRig } from '../decorators/rig';
import { createApp, customerFromHeader, platforms } from '../nest/app';
import { telemetry, valueOf, type Telemetry } from './helpers';
import { forSuite } from '../support/suite';

// Issue 27 on Nest, both platforms: exactly one feature_flag.evaluation event per decision of the
// guard, with the decision's attributes (test/otel/adapters.test.ts does the other adapters).

@Controller()
class GatedController {
  @Post('templates')
  @RequireFeature(TEMPLATES, 1)
  async create(): Promise<{ ok: true }> {
    return { ok: true };
  }

  @Get('analytics')
  @RequireFeature(ANALYTICS)
  async analytics(): Promise<{ ok: true }> {
    return { ok: true };
  }
}

const rig = forSuite(() => startRig());

describe.each(platforms)('stigg-gate/nest on %s', (platform) => {
  let otel: Telemetry;
  let app: INestApplication | undefined;
  beforeEach(async () => {
    await rig.next();
    otel = telemetry();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await otel.shutdown();
  });

  test('one evaluation event per decision, whose attributes say what the decision said', async () => {
    const decisions: Decision[] = [];
    rig.entitlements.on('decision', (decision) => decisions.push(decision));
    const dispose = instrument(rig.entitlements, { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
    try {
      app = await createApp(platform, {
        imports: [StiggModule.forRoot({ entitlements: rig.entitlements, customer: customerFromHeader })],
        controllers: [GatedController],
      });
      const server = app.getHttpServer() as http.Server;
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await request(server).post('/templates').set('x-customer', 'c-basic')).status);
      statuses.push((await request(server).get('/analytics').set('x-customer', 'c-basic')).status);
      statuses.push((await request(server).get('/analytics').set('x-customer', 'c-growth')).status);
      statuses.push((await request(server).get('/analytics')).status);
      expect(statuses).toEqual([201, 201, 201, 402, 402, 200, 401]);

      const spans = await otel.finished();
      expect(decisions.map((decision) => [decision.featureId, decision.granted])).toEqual([
        [TEMPLATES, true],
        [TEMPLATES, true],
        [TEMPLATES, true],
        [TEMPLATES, false],
        [ANALYTICS, false],
        [ANALYTICS, true],
      ]);
      expect(spans.map((span) => [span.name, span.events.length])).toEqual(decisions.map(() => ['feature_flag.evaluation', 1]));
      const events = spans.map((span) => span.events[0]?.attributes ?? {});
      decisions.forEach((decision, at) => {
        expect(events[at]).toMatchObject({
          'feature_flag.key': decision.featureId,
          'feature_flag.result.variant': decision.granted ? 'granted' : 'denied',
          'stigg_gate.source': decision.source,
        });
        expect(events[at]?.['stigg_gate.access_denied_reason']).toBe(decision.accessDeniedReason ?? undefined);
        expect(events[at]?.['stigg_gate.remaining']).toBe(decision.remaining ?? undefined);
      });
      const metrics = await otel.collect();
      expect(valueOf(metrics, 'stigg_gate.decisions')).toBe(6);
    } finally {
      dispose();
    }
  });
});
