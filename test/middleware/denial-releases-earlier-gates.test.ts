import type http from 'node:http';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import { CUSTOMER_HEADER, adapters, close, type Adapter } from './harness';
import { forSuite } from '../support/suite';

// Adversarial pass on issue 23: a route gated on a metered feature A, then on a feature B the
// customer lacks, with an onDenied that answers below 400 (a redirect to the pricing page, a 200
// upgrade page). The handler never runs, yet A's settlement saw the response end with a status
// < 400 and reported A's unit (1 of 0, on every adapter). A denial now gives back what earlier gates
// of the request granted, whatever status onDenied answers.

const TEMPLATES = 'feature-01-templates'; // metered, 3 on plan-revvenu-basic
const DOMAIN = 'feature-03-custom-domain'; // not on plan-revvenu-basic
const CUSTOMER = 'cust-basic';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

const emu = forSuite(() => startEmulator({ port: 0, catalog }));

describe.each(adapters)('$name', (adapter: Adapter) => {
  let real: Entitlements;
  let server: http.Server | undefined;
  beforeEach(() => {
    emu.reset();
    real = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }) });
  });
  afterEach(async () => {
    await real.close();
    if (server?.listening) await close(server);
  });

  test.each([302, 200])(
    'a later gate denied, onDenied answers %i: the earlier grant is released, the handler never ran',
    async (status) => {
      const app = adapter.build({
        entitlements: real,
        stigg: { onDenied: () => ({ status, body: { upgrade: '/pricing' } }) },
        routes: [{ method: 'post', path: '/work', gates: [{ featureId: TEMPLATES, usage: 1 }, { featureId: DOMAIN }], handler: {} }],
      });
      server = app.server;
      await request(server).post('/work').set(CUSTOMER_HEADER, CUSTOMER).expect(status);
      expect(app.runs.get('/work') ?? 0).toBe(0);
      await real.flush();
      expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0).toBe(0);
    },
  );
});
