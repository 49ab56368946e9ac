import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { CUSTOMER_HEADER, adapters, type RouteSpec } from './harness';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass 3: a route gated on two features, the first granted (reserved), the second denied,
// and an onDenied that throws. The handler never runs: the first gate's units must be neither
// counted nor held (after 3 such requests, 3 requests on the first feature alone still fit its limit of 3).

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
const ANALYTICS = 'feature-04-analytics'; // not on the basic plan: denied
const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: adapters.map((a) => ({ id: `od-${a.name}`, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
    },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));

const routes: RouteSpec[] = [
  { method: 'post', path: '/both', gates: [{ featureId: TEMPLATES, usage: 1 }, { featureId: ANALYTICS }] },
  { method: 'post', path: '/one', gates: [{ featureId: TEMPLATES, usage: 1 }] },
];

describe.each(adapters)('$name', (adapter) => {
  let entitlements: Entitlements;
  beforeEach(() => {
    entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  });
  afterEach(() => entitlements.close());

  test('second gate denied, onDenied throws: the first gate reserves nothing past the request', async () => {
    const id = `od-${adapter.name}`;
    const app = adapter.build({
      entitlements,
      routes,
      stigg: {
        onDenied: () => {
          throw new Error('onDenied failed');
        },
      },
    });
    const both: number[] = [];
    for (let i = 0; i < 3; i += 1) both.push((await request(app.server).post('/both').set(CUSTOMER_HEADER, id).send({})).status);
    await new Promise((r) => setTimeout(r, 50));
    const one: number[] = [];
    for (let i = 0; i < 3; i += 1) one.push((await request(app.server).post('/one').set(CUSTOMER_HEADER, id).send({})).status);
    await entitlements.flush();
    expect({ both, one, runs: app.runs.get('/both') ?? 0, counted: emu.stats().usage[`${id}||${TEMPLATES}`] ?? 0 }).toEqual({
      both: [500, 500, 500],
      one: [200, 200, 200],
      runs: 0,
      counted: 3,
    });
  });
});
