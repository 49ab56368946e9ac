import 'reflect-metadata';
import type http from 'node:http';
import { Controller, Post, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { RequireFeature } from 'stigg-gate/decorators';
import { StiggModule } from 'stigg-gate/nest';
import { TEMPLATES, startRig } from '../decorators/rig';
import { rawPost, watched } from '../middleware/hangup';
import { deferred } from '../middleware/harness';
import { createApp, customerFromHeader, platforms } from './app';
import { forSuite } from '../support/suite';

// Issue 23 on Nest (the guard + interceptor, same rule as the middleware): a client that hangs up
// after the grant is charged for the work its handler did. c-basic has 3 templates.

const rig = forSuite(() => startRig());
beforeEach(async () => {
  await rig.next();
});

/** Each call announces its start and waits for the test's go; calls counts the work done. */
const work = { calls: 0, starts: [] as Array<() => void>, goes: [] as Array<Promise<void>> };

@Controller('hangup')
class HangupController {
  @Post('work')
  @RequireFeature(TEMPLATES, 1)
  async work(): Promise<{ ok: true }> {
    const i = work.calls++;
    work.starts[i]?.();
    await (work.goes[i] ?? Promise.resolve());
    return { ok: true };
  }

  @Post('throws')
  @RequireFeature(TEMPLATES, 1)
  async throws(): Promise<never> {
    const i = work.calls++;
    work.starts[i]?.();
    await (work.goes[i] ?? Promise.resolve());
    throw new Error('boom');
  }
}

describe.each(platforms)('stigg-gate/nest on %s: usage follows the work (issue 23)', (platform) => {
  let app: INestApplication | undefined;
  let server: http.Server;
  let settled: () => Promise<string>;
  beforeEach(async () => {
    work.calls = 0;
    work.starts = [];
    work.goes = [];
    const w = watched(rig.entitlements);
    settled = w.settled;
    app = await createApp(platform, {
      imports: [StiggModule.forRoot({ entitlements: w.entitlements, customer: customerFromHeader })],
      controllers: [HangupController],
    });
    server = app.getHttpServer() as http.Server;
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Sends a request, hangs up once its handler started (or reads the denial), then lets the handler finish. */
  async function hangUp(path: string): Promise<'worked' | 'denied'> {
    const started = deferred();
    const go = deferred();
    work.starts[work.calls] = () => started.resolve();
    work.goes[work.calls] = go.promise;
    const raw = await rawPost(server, path, { 'x-customer': 'c-basic' });
    const first = await Promise.race([started.promise.then(() => 'started'), raw.firstData]);
    await raw.leave();
    if (first !== 'started') {
      expect(first).toMatch(/^HTTP\/1\.1 402/);
      return 'denied';
    }
    go.resolve();
    return 'worked';
  }

  it('the hang-up attack: 10 clients leave while the handler works — work done equals units counted, never past the limit', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      outcomes.push(await hangUp('/hangup/work'));
      if (outcomes[i] === 'worked') await settled();
    }
    expect(outcomes.filter((o) => o === 'worked')).toHaveLength(3);
    expect((await request(server).post('/hangup/work').set('x-customer', 'c-basic')).status).toBe(402);
    expect(work.calls).toBe(3);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(3);
  });

  it('a handler that fails after the client left gives the units back', async () => {
    expect(await hangUp('/hangup/throws')).toBe('worked');
    expect(await settled()).toBe('release');
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(0);
  });
});
