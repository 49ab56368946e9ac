import type http from 'node:http';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import { CUSTOMER_HEADER, adapters, close, type Adapter, type BuildOptions, type Gate } from './harness';
import { forSuite, onFirstUse } from '../support/suite';

// Opt-in IETF RateLimit fields (issue 27): on every adapter, the same fields for the same decisions;
// none unless asked for. plan-revvenu-basic: 3 templates (no reset), 4 campaigns a month, no analytics.

const TEMPLATES = 'feature-01-templates';
const CAMPAIGNS = 'feature-02-campaigns';
const ANALYTICS = 'feature-04-analytics';
const CUSTOMER = 'cust-basic';
const MONTH_S = 31 * 86_400;

const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

const emu = forSuite(() => startEmulator({ port: 0, catalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));

/** RateLimit's policy, remaining units and seconds to the reset (absent: no reset), read back from the field. */
function parse(field: unknown): { policy: string; r: number; t: number | undefined } | undefined {
  const match = /^"([^"]+)";r=(\d+)(?:;t=(\d+))?$/.exec(typeof field === 'string' ? field : '');
  return match === null ? undefined : { policy: match[1]!, r: Number(match[2]), t: match[3] === undefined ? undefined : Number(match[3]) };
}

describe.each(adapters)('$name: RateLimit fields (opt-in)', (adapter: Adapter) => {
  let entitlements: Entitlements;
  let servers: http.Server[];
  beforeEach(() => {
    emu.reset();
    entitlements = createEntitlements({ client });
    servers = [];
  });
  afterEach(async () => {
    await entitlements.close();
    await Promise.all(servers.filter((server) => server.listening).map(close));
  });

  function serve(gate: Gate, stigg: BuildOptions['stigg'] = {}): http.Server {
    const app = adapter.build({ entitlements, stigg, routes: [{ method: 'post', path: '/work', gates: [gate] }] });
    servers.push(app.server);
    return app.server;
  }
  const post = (server: http.Server) => request(server).post('/work').set(CUSTOMER_HEADER, CUSTOMER);

  test('on: each grant says what is left; the denial past the limit says 0; no reset, no t', async () => {
    const server = serve({ featureId: TEMPLATES, usage: 1 }, { rateLimitHeaders: true });
    const states = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await post(server).expect(200);
      expect(res.headers['ratelimit-policy']).toBe('"feature-01-templates";q=3');
      states.push(parse(res.headers['ratelimit']));
    }
    expect(states).toEqual([2, 1, 0].map((r) => ({ policy: TEMPLATES, r, t: undefined })));
    const denied = await post(server).expect(402);
    expect(denied.headers['ratelimit-policy']).toBe('"feature-01-templates";q=3');
    expect(parse(denied.headers['ratelimit'])).toEqual({ policy: TEMPLATES, r: 0, t: undefined });
  });

  test('a feature that resets monthly: t is the seconds to the end of its usage period', async () => {
    const server = serve({ featureId: CAMPAIGNS, usage: 3 }, { rateLimitHeaders: true });
    const res = await post(server).expect(200);
    expect(res.headers['ratelimit-policy']).toBe('"feature-02-campaigns";q=4');
    const state = parse(res.headers['ratelimit']);
    expect(state).toMatchObject({ policy: CAMPAIGNS, r: 1 });
    expect(state!.t).toBeGreaterThan(0);
    expect(state!.t).toBeLessThanOrEqual(MONTH_S);
  });

  test('off (the default): no fields, granted or denied', async () => {
    const server = serve({ featureId: TEMPLATES, usage: 3 });
    const granted = await post(server).expect(200);
    const denied = await post(server).expect(402);
    for (const res of [granted, denied]) {
      expect(res.headers['ratelimit']).toBeUndefined();
      expect(res.headers['ratelimit-policy']).toBeUndefined();
    }
  });

  // Nest: @RequireFeature takes no rateLimitHeaders of its own; StiggModule's applies to every route.
  const routeOption = adapter.kind === 'nest' ? () => undefined : test;
  routeOption("a route's option wins over stigg()'s, both ways", async () => {
    const on = serve({ featureId: TEMPLATES, usage: 1, options: { rateLimitHeaders: true } });
    expect(parse((await post(on).expect(200)).headers['ratelimit'])?.r).toBe(2);
    const off = serve({ featureId: TEMPLATES, usage: 1, options: { rateLimitHeaders: false } }, { rateLimitHeaders: true });
    expect((await post(off).expect(200)).headers['ratelimit']).toBeUndefined();
  });

  test('a feature with no usage limit gets no fields', async () => {
    const server = serve({ featureId: ANALYTICS }, { rateLimitHeaders: true });
    const res = await post(server);
    expect(res.status).toBe(402);
    expect(res.headers['ratelimit']).toBeUndefined();
  });
});
