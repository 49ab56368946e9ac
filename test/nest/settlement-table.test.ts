import 'reflect-metadata';
import type http from 'node:http';
import { Readable } from 'node:stream';
import { Controller, HttpException, Post, StreamableFile, type ExecutionContext, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { RequireFeature } from 'stigg-gate/decorators';
import { StiggModule } from 'stigg-gate/nest';
import type { OnAbort } from '../../src/middleware/gate';
import { TEMPLATES, startRig } from '../decorators/rig';
import { rawPost, watched } from '../middleware/hangup';
import { deferred } from '../middleware/harness';
import { createApp, customerFromHeader, platforms } from './app';
import { forSuite } from '../support/suite';

// Issue 23's settlement table (test/middleware/settlement.test.ts) on Nest, on both platforms: the
// same cases, the same units reported. c-basic has 3 templates; each case reserves 1. Every hang-up
// is triggered by an event (the handler started, the first chunk arrived), never a timer.

const CUSTOMER = 'c-basic';

/** What the controller's handlers do; set per case. */
const script = {
  runs: 0,
  started: deferred(),
  go: deferred(),
  /** The rest of a stream: 'end' or 'fail', when the test says so. */
  rest: deferred<'end' | 'fail'>(),
  settleUnits: 0,
};

function resetScript(): void {
  script.runs = 0;
  script.started = deferred();
  script.go = deferred();
  script.rest = deferred<'end' | 'fail'>();
  script.settleUnits = 0;
}

const FIRST = 'first chunk\n';

@Controller('t')
class TableController {
  @Post('work')
  @RequireFeature(TEMPLATES, 1)
  async work(): Promise<{ ok: true }> {
    script.runs += 1;
    script.started.resolve();
    await script.go.promise;
    return { ok: true };
  }

  @Post('stream')
  @RequireFeature(TEMPLATES, 1)
  async stream(): Promise<StreamableFile> {
    script.runs += 1;
    const body = new Readable({ read() {} });
    body.push(FIRST);
    void script.rest.promise.then((how) => {
      if (how === 'end') {
        body.push('last\n');
        body.push(null);
      } else body.destroy(new Error('the source broke'));
    });
    return new StreamableFile(body, { type: 'text/plain' });
  }

  @Post('throws')
  @RequireFeature(TEMPLATES, 1)
  throws(): Promise<never> {
    script.runs += 1;
    throw new Error('boom'); // synchronously, before any promise
  }

  @Post('rejects')
  @RequireFeature(TEMPLATES, 1)
  async rejects(): Promise<never> {
    script.runs += 1;
    await Promise.resolve();
    throw new Error('boom');
  }

  @Post('conflict')
  @RequireFeature(TEMPLATES, 1)
  async conflict(): Promise<never> {
    script.runs += 1;
    throw new HttpException('taken', 409);
  }

  @Post('unavailable')
  @RequireFeature(TEMPLATES, 1)
  async unavailable(): Promise<never> {
    script.runs += 1;
    throw new HttpException('later', 503);
  }

  @Post('settles')
  @RequireFeature(TEMPLATES, 1, { settle: () => script.settleUnits })
  async settles(): Promise<{ ok: true }> {
    script.runs += 1;
    return { ok: true };
  }
}

interface Setup {
  onAbort?: OnAbort<ExecutionContext>;
  customer?: (context: ExecutionContext) => Promise<string | undefined> | string | undefined;
}

type Start = (setup?: Setup) => Promise<http.Server>;

const cases: Array<{ name: string; units: number; runs: 0 | 1; run: (start: Start, settled: () => Promise<string>) => Promise<void> }> = [
  {
    name: 'client gone before the decision: released, the handler never runs',
    units: 0,
    runs: 0,
    async run(start, settled) {
      const arrived = deferred();
      const decide = deferred();
      const server = await start({
        customer: async (context) => {
          arrived.resolve();
          await decide.promise;
          return customerFromHeader(context);
        },
      });
      const raw = await rawPost(server, '/t/work', { 'x-customer': CUSTOMER });
      await arrived.promise;
      await raw.leave();
      script.go.resolve();
      decide.resolve();
      expect(await settled()).toBe('release');
    },
  },
  {
    name: 'client gone while the handler works: the handler still answers, so it is reported',
    units: 1,
    runs: 1,
    async run(start, settled) {
      const server = await start();
      const raw = await rawPost(server, '/t/work', { 'x-customer': CUSTOMER });
      await script.started.promise;
      await raw.leave();
      script.go.resolve();
      await settled();
    },
  },
  ...(['commit', 'release', 'function'] as const).map((policy) => ({
    name: `client gone mid-stream, onAbort ${policy}`,
    units: policy === 'commit' ? 1 : policy === 'release' ? 0 : 2,
    runs: 1 as const,
    async run(start: Start, settled: () => Promise<string>) {
      const server = await start({ onAbort: policy === 'function' ? () => 2 : policy });
      const raw = await rawPost(server, '/t/stream', { 'x-customer': CUSTOMER });
      expect(await raw.firstData).toContain(FIRST);
      await raw.leave();
      script.rest.resolve('end');
      await settled();
    },
  })),
  {
    name: 'a stream read to its end',
    units: 1,
    runs: 1,
    async run(start, settled) {
      const server = await start();
      const raw = await rawPost(server, '/t/stream', { 'x-customer': CUSTOMER });
      await raw.firstData;
      script.rest.resolve('end');
      expect(await raw.ended).toContain('last');
      await settled();
    },
  },
  {
    name: 'a stream that breaks after it started: onAbort (commit)',
    units: 1,
    runs: 1,
    async run(start, settled) {
      const server = await start();
      const raw = await rawPost(server, '/t/stream', { 'x-customer': CUSTOMER });
      await raw.firstData;
      script.rest.resolve('fail');
      await settled();
      await raw.leave();
    },
  },
  ...(
    [
      ['the handler throws', '/t/throws', 500],
      ['the handler rejects', '/t/rejects', 500],
      ['the handler answers 4xx', '/t/conflict', 409],
      ['the handler answers 5xx', '/t/unavailable', 503],
    ] as const
  ).map(([name, path, status]) => ({
    name,
    units: 0,
    runs: 1 as const,
    async run(start: Start, settled: () => Promise<string>) {
      const server = await start();
      await request(server).post(path).set('x-customer', CUSTOMER).expect(status);
      expect(await settled()).toBe('release');
    },
  })),
  ...[0, 2, 0.5].map((actual) => ({
    name: `the method settles ${actual} units of the 1 it reserved`,
    units: actual,
    runs: 1 as const,
    async run(start: Start, settled: () => Promise<string>) {
      script.settleUnits = actual;
      const server = await start();
      await request(server).post('/t/settles').set('x-customer', CUSTOMER).expect(201);
      expect(await settled()).toBe(`settle ${actual}`);
    },
  })),
];

const rig = forSuite(() => startRig());

describe.each(platforms)('stigg-gate/nest on %s: the settlement table of every adapter (issue 23)', (platform) => {
  let app: INestApplication | undefined;
  beforeEach(async () => {
    await rig.next();
    resetScript();
  });
  afterEach(async () => {
    script.go.resolve();
    script.rest.resolve('end');
    await app?.close();
    app = undefined;
  });

  test.each(cases)('$name: $units units reported', async ({ run, units, runs }) => {
    const { entitlements, settled } = watched(rig.entitlements);
    const start: Start = async (setup = {}) => {
      app = await createApp(platform, {
        imports: [
          StiggModule.forRoot({
            entitlements,
            customer: setup.customer ?? customerFromHeader,
            ...(setup.onAbort === undefined ? {} : { onAbort: setup.onAbort }),
          }),
        ],
        controllers: [TableController],
      });
      const server = app.getHttpServer() as http.Server;
      if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    };
    await run(start, settled);
    expect(script.runs).toBe(runs);
    expect(await rig.reported(CUSTOMER, TEMPLATES)).toBe(units);
  });
});
