import type http from 'node:http';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import { CUSTOMER_HEADER, STREAM_FIRST, adapters, close, deferred, type Adapter, type BuildOptions, type HandlerSpec } from './harness';
import { rawPost, watched } from './hangup';
import { forSuite, onFirstUse } from '../support/suite';

// Issue 23: usage follows the work, on every adapter, by the one rule of src/middleware/settle.ts.
// Every hang-up is triggered by an event (the handler started, the first chunk arrived), never a timer.

const TEMPLATES = 'feature-01-templates'; // 3 a month on plan-revvenu-basic
const CUSTOMER = 'cust-basic';

const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

const emu = forSuite(() => startEmulator({ port: 0, catalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));

function reported(): number {
  return emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0;
}

/** A handler that announces each start and waits until the test lets it go on. */
function held(): { spec: HandlerSpec; started: Promise<void>; go: () => void } {
  const started = deferred();
  const go = deferred();
  return {
    spec: {
      hold: () => {
        started.resolve();
        return go.promise;
      },
    },
    started: started.promise,
    go: () => go.resolve(),
  };
}

/** A handler that streams its first chunk, then ends or breaks its stream when the test says so. */
function streaming(): { spec: HandlerSpec; finish: (how: 'end' | 'fail') => void } {
  const rest = deferred<'end' | 'fail'>();
  return { spec: { stream: { rest: () => rest.promise } }, finish: (how) => rest.resolve(how) };
}

type Builder = (handler: HandlerSpec, options?: Partial<BuildOptions>) => { server: http.Server; runs: Map<string, number> };

const cases: Array<{
  name: string;
  units: number;
  runs: 0 | 1;
  run: (build: Builder, settled: () => Promise<string>) => Promise<Map<string, number>>;
}> = [
  {
    name: 'client gone before the decision: released, the handler never runs',
    units: 0,
    runs: 0,
    async run(build, settled) {
      const arrived = deferred();
      const decide = deferred();
      const app = build(
        {},
        {
          stigg: {
            customer: async (v) => {
              arrived.resolve();
              await decide.promise;
              return v.headers[CUSTOMER_HEADER];
            },
          },
        },
      );
      const raw = await rawPost(app.server, '/work', { [CUSTOMER_HEADER]: CUSTOMER });
      await arrived.promise;
      await raw.leave();
      decide.resolve();
      // The grant finds the client gone: released at once, the handler never runs.
      expect(await settled()).toBe('release');
      return app.runs;
    },
  },
  {
    name: 'client gone while the handler works: the handler still answers, so it is reported',
    units: 1,
    runs: 1,
    async run(build, settled) {
      const h = held();
      const app = build(h.spec);
      const raw = await rawPost(app.server, '/work', { [CUSTOMER_HEADER]: CUSTOMER });
      await h.started;
      await raw.leave();
      h.go();
      await settled();
      return app.runs;
    },
  },
  ...(['commit', 'release', 'function'] as const).map((policy) => ({
    name: `client gone mid-stream, onAbort ${policy}`,
    units: policy === 'commit' ? 1 : policy === 'release' ? 0 : 2,
    runs: 1 as const,
    async run(build: Builder, settled: () => Promise<string>) {
      const s = streaming();
      const onAbort = policy === 'function' ? () => 2 : policy;
      const app = build(s.spec, { stigg: { onAbort } });
      const raw = await rawPost(app.server, '/work', { [CUSTOMER_HEADER]: CUSTOMER });
      expect(await raw.firstData).toContain(STREAM_FIRST);
      await raw.leave();
      s.finish('end');
      await settled();
      return app.runs;
    },
  })),
  {
    name: "a complete answer the client never reads (it leaves), onAbort 'release': the handler completed, so it is reported",
    units: 1,
    runs: 1,
    async run(build, settled) {
      const sent = deferred();
      const app = build({ bodyBytes: 8 * 1024 * 1024, sent: () => sent.resolve() }, { stigg: { onAbort: 'release' } });
      const raw = await rawPost(app.server, '/work', { [CUSTOMER_HEADER]: CUSTOMER }, { read: false });
      await sent.promise;
      await raw.leave();
      await settled();
      return app.runs;
    },
  },
  {
    name: 'a stream read to its end',
    units: 1,
    runs: 1,
    async run(build, settled) {
      const s = streaming();
      const app = build(s.spec);
      const raw = await rawPost(app.server, '/work', { [CUSTOMER_HEADER]: CUSTOMER });
      await raw.firstData;
      s.finish('end');
      expect(await raw.ended).toContain('last');
      await settled();
      return app.runs;
    },
  },
  {
    name: 'a stream that breaks after it started: onAbort (commit)',
    units: 1,
    runs: 1,
    async run(build, settled) {
      const s = streaming();
      const app = build(s.spec);
      const raw = await rawPost(app.server, '/work', { [CUSTOMER_HEADER]: CUSTOMER });
      await raw.firstData;
      s.finish('fail');
      await settled();
      await raw.leave(); // Koa 2 leaves a response whose body broke open
      return app.runs;
    },
  },
  ...(
    [
      ['the handler throws', { throws: 'sync' }],
      ['the handler rejects', { throws: 'async' }],
      ['the handler answers 4xx', { status: 409 }],
      ['the handler answers 5xx', { status: 503 }],
    ] as const
  ).map(([name, spec]) => ({
    name,
    units: 0,
    runs: 1 as const,
    async run(build: Builder, settled: () => Promise<string>) {
      const app = build(spec);
      await request(app.server).post('/work').set(CUSTOMER_HEADER, CUSTOMER);
      await settled();
      return app.runs;
    },
  })),
  ...[0, 2, 0.5].map((actual) => ({
    name: `the route settles ${actual} units of the 1 it reserved`,
    units: actual,
    runs: 1 as const,
    async run(build: Builder, settled: () => Promise<string>) {
      const app = build({ settle: actual });
      await request(app.server).post('/work').set(CUSTOMER_HEADER, CUSTOMER).expect(200);
      expect(await settled()).toBe(`settle ${actual}`);
      return app.runs;
    },
  })),
  {
    name: 'the route settles, then answers 4xx: its own count stands',
    units: 2,
    runs: 1,
    async run(build, settled) {
      const app = build({ settle: 2, status: 422 });
      await request(app.server).post('/work').set(CUSTOMER_HEADER, CUSTOMER).expect(422);
      await settled();
      return app.runs;
    },
  },
];

describe.each(adapters)('$name: one settlement rule (issue 23)', (adapter: Adapter) => {
  let real: Entitlements;
  let servers: http.Server[];
  beforeEach(() => {
    emu.reset();
    real = createEntitlements({ client });
    servers = [];
  });
  afterEach(async () => {
    await real.close();
    await Promise.all(servers.filter((server) => server.listening).map(close));
  });

  test.each(cases)('$name: $units units reported', async ({ run, units, runs }) => {
    const { entitlements, settled } = watched(real);
    const build: Builder = (handler, options = {}) => {
      const app = adapter.build({
        entitlements,
        ...options,
        routes: [{ method: 'post', path: '/work', gates: [{ featureId: TEMPLATES, usage: 1 }], handler }],
      });
      servers.push(app.server);
      return app;
    };
    const handlerRuns = await run(build, settled);
    expect(handlerRuns.get('/work') ?? 0).toBe(runs);
    await real.flush();
    expect(reported()).toBe(units);
  });

  test('the hang-up attack: 10 clients leave while the handler works, then ordinary requests — work done equals units counted, never past the limit', async () => {
    const starts: Array<{ resolve: () => void }> = [];
    const goes: Array<{ promise: Promise<void> }> = [];
    let calls = 0;
    const app = adapter.build({
      entitlements: real,
      routes: [
        {
          method: 'post',
          path: '/work',
          gates: [{ featureId: TEMPLATES, usage: 1 }],
          handler: {
            hold: () => {
              const i = calls++;
              starts[i]?.resolve();
              return goes[i]?.promise ?? Promise.resolve();
            },
          },
        },
      ],
    });
    servers.push(app.server);
    let denied = 0;
    for (let i = 0; i < 10; i += 1) {
      const started = deferred();
      const go = deferred();
      starts[calls] = started;
      goes[calls] = go;
      const raw = await rawPost(app.server, '/work', { [CUSTOMER_HEADER]: CUSTOMER });
      const first = await Promise.race([started.promise.then(() => 'started'), raw.firstData]);
      if (first === 'started') {
        await raw.leave();
        go.resolve();
      } else {
        expect(first).toMatch(/^HTTP\/1\.1 402/);
        denied += 1;
        await raw.leave();
      }
    }
    expect(denied).toBe(7);
    let served = 0;
    for (let i = 0; i < 5; i += 1) {
      const res = await request(app.server).post('/work').set(CUSTOMER_HEADER, CUSTOMER);
      if (res.status === 200) served += 1;
      else expect(res.status).toBe(402);
    }
    await real.flush();
    const work = app.runs.get('/work') ?? 0;
    expect(served).toBe(0);
    expect(work).toBe(3);
    expect(reported()).toBe(work);
  });
});
