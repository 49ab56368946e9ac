import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { CUSTOMER_HEADER, adapters, type RouteSpec } from './harness';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass 3 on 16bf748 (HEAD metered like GET): HEAD on a streamed GET, on a GET whose
// handler reports its units through settle(), and on a GET answering 4xx.

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3 (see faults.test.ts)
const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: ['hs-', 'hx-', 'h4-'].flatMap((p) =>
        adapters.map((a) => ({ id: `${p}${a.name}`, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
      ),
    },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));

const routes: RouteSpec[] = [
  {
    method: 'get',
    path: '/stream',
    gates: [{ featureId: TEMPLATES, usage: 1 }],
    handler: { stream: { rest: () => Promise.resolve('end') } },
  },
  { method: 'get', path: '/settled', gates: [{ featureId: TEMPLATES, usage: 1 }], handler: { settle: 1 } },
  { method: 'get', path: '/bad', gates: [{ featureId: TEMPLATES, usage: 1 }], handler: { status: 404 } },
];

function usage(id: string): number {
  return emu.stats().usage[`${id}||${TEMPLATES}`] ?? 0;
}

describe.each(adapters)('$name: HEAD', (adapter) => {
  let entitlements: Entitlements;
  beforeEach(() => {
    entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  });
  afterEach(() => entitlements.close());

  test.each([
    ['/stream', 'hs-'],
    ['/settled', 'hx-'],
  ])('HEAD %s x6 at a limit of 3: every handler run is counted', async (path, prefix) => {
    const id = `${prefix}${adapter.name}`;
    const app = adapter.build({ entitlements, routes });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await request(app.server).head(path).set(CUSTOMER_HEADER, id)).status);
    await new Promise((r) => setTimeout(r, 50));
    await entitlements.flush();
    expect({ statuses, runs: app.runs.get(path), counted: usage(id) }).toEqual({
      statuses: [200, 200, 200, 402, 402, 402],
      runs: 3,
      counted: 3,
    });
  });

  test('HEAD on a GET answering 404 x6: nothing counted, nothing held', async () => {
    const id = `h4-${adapter.name}`;
    const app = adapter.build({ entitlements, routes });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await request(app.server).head('/bad').set(CUSTOMER_HEADER, id)).status);
    await new Promise((r) => setTimeout(r, 50));
    await entitlements.flush();
    expect({ statuses, counted: usage(id) }).toEqual({ statuses: Array(6).fill(404), counted: 0 });
  });
});
