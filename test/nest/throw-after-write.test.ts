import 'reflect-metadata';
import type http from 'node:http';
import type { ServerResponse } from 'node:http';
import { Controller, Post, Res, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { RequireFeature } from 'stigg-gate/decorators';
import { StiggModule } from 'stigg-gate/nest';
import { TEMPLATES, startRig } from '../decorators/rig';
import { createApp, customerFromHeader } from './app';
import { forSuite } from '../support/suite';

// The rule of the other adapters (test/middleware/throw-after-write.test.ts) on Nest: a handler that
// writes to the response itself (server-sent events through @Res()) and then throws is settled by
// what it sent — cut short: onAbort (default commit, 1 unit); ended: its status. It was released (0).

@Controller('sse')
class SseController {
  @Post('cut')
  @RequireFeature(TEMPLATES, 1)
  async cut(@Res() res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    await Promise.resolve();
    throw new Error('the source broke');
  }

  @Post('ended')
  @RequireFeature(TEMPLATES, 1)
  async ended(@Res() res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end('data: all\n\n');
    await Promise.resolve();
    throw new Error('thrown after the answer');
  }
}

let app: INestApplication | undefined;
const rig = forSuite(() => startRig());
afterEach(async () => {
  await app?.close();
  app = undefined;
  await rig.next();
});

test.each([
  ['writes, then throws: onAbort (commit)', '/sse/cut'],
  ['writes and ends, then throws: its status (200)', '/sse/ended'],
])('%s: 1 unit', async (_name, path) => {
  app = await createApp('express', {
    imports: [StiggModule.forRoot({ entitlements: rig.entitlements, customer: customerFromHeader })],
    controllers: [SseController],
  });
  const server = app.getHttpServer() as http.Server;
  await request(server)
    .post(path)
    .set('x-customer', 'c-basic')
    .buffer(false)
    .catch(() => undefined);
  expect(await rig.reported('c-basic', TEMPLATES)).toBe(1);
});
