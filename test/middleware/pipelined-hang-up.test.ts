import type http from 'node:http';
import net from 'node:net';
import { StiggClient } from '../../src/client';
import { createEntitlements, type Entitlements } from '../../src/core';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import { CUSTOMER_HEADER, adapters, close, deferred, listen, type Adapter } from './harness';
import { watched } from './hangup';
import { TEMPLATES, goneBeforeDecision, within } from './pipelined';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass on issue 23 (usage follows the work, on every adapter): keep-alive pipelining.
// A client writes three requests at once on one connection, the first on a slow handler, and hangs
// up. Node runs the two pipelined handlers at once and queues their answers behind the first; when
// the connection dies, a queued http.ServerResponse never emits 'close' (nor 'finish'), and that
// event was the only one the settlement watched. Measured before the fix (limit 3, Express 5): the
// work ran 3 times, 1 unit reported; the two queued grants were neither committed nor released
// (held until reservationMaxMs, then lapsed: free work), on Express 4/5, Koa 2/3 and Fastify 4/5
// (Hono on Node held). The request's socket closing settles them; and a pipelined request whose client
// left before its decision is released and never runs, as any other.

const CUSTOMER = 'cust-pipelined';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

const emu = forSuite(() => startEmulator({ port: 0, catalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));

describe.each(adapters)('$name', (adapter: Adapter) => {
  let real: Entitlements;
  let server: http.Server | undefined;
  beforeEach(() => {
    emu.reset();
    real = createEntitlements({ client });
  });
  afterEach(async () => {
    await real.close();
    if (server?.listening) await close(server);
  });

  test('three pipelined requests, the client hangs up behind a slow first one: each handler that answered is reported', async () => {
    const { entitlements, settled } = watched(real);
    const go = deferred();
    const allStarted = deferred();
    let calls = 0;
    const app = adapter.build({
      entitlements,
      routes: [
        {
          method: 'post',
          path: '/work',
          gates: [{ featureId: TEMPLATES, usage: 1 }],
          handler: {
            hold: () => {
              calls += 1;
              if (calls === 3) allStarted.resolve();
              return calls === 1 ? go.promise : Promise.resolve();
            },
          },
        },
      ],
    });
    server = app.server;
    const base = new URL(await listen(server));
    const serverSide = deferred<net.Socket>();
    server.once('connection', (socket) => serverSide.resolve(socket));
    const socket = net.connect(Number(base.port), base.hostname);
    socket.on('error', () => {});
    const one = `POST /work HTTP/1.1\r\nHost: ${base.host}\r\n${CUSTOMER_HEADER}: ${CUSTOMER}\r\nContent-Length: 0\r\n\r\n`;
    socket.write(one + one + one);
    await allStarted.promise;
    // The two pipelined handlers answered (queued behind the first): the client leaves.
    const onServer = await serverSide.promise;
    const gone = new Promise<void>((resolve) => (onServer.destroyed ? resolve() : onServer.once('close', () => resolve())));
    socket.destroy();
    await gone;
    go.resolve();
    const outcomes = await within(Promise.all([settled(), settled(), settled()]), 10_000, 'three settlements');
    expect(outcomes).toEqual(['commit', 'commit', 'commit']);
    await real.flush();
    expect(app.runs.get('/work')).toBe(3);
    expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`]).toBe(3);
  });
});

// Next.js route handlers get a Request only (no connection to watch) and run such a request (and report
// it): test/middleware/repro/next-pipelined-gone-before-decision.repro.ts. Hono on Node watches the request's socket.
const FETCH_HOSTS: ReadonlySet<Adapter['kind']> = new Set(['next']);
describe.each(adapters.filter((adapter) => !FETCH_HOSTS.has(adapter.kind)))('$name', (adapter: Adapter) => {
  let real: Entitlements;
  const servers: http.Server[] = [];
  beforeEach(() => {
    emu.reset();
    real = createEntitlements({ client });
  });
  afterEach(async () => {
    await real.close();
    await Promise.all(
      servers
        .splice(0)
        .filter((server) => server.listening)
        .map(close),
    );
  });

  test('a pipelined request decided after its client hung up: released, its handler never runs', async () => {
    const { outcomes, runs } = await goneBeforeDecision(adapter, real, CUSTOMER, (server) => servers.push(server));
    expect(outcomes).toEqual(['commit', 'release']);
    expect(runs).toBe(1);
    expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`]).toBe(1);
  });
});
