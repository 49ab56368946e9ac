import request from 'supertest';
import * as ex from 'stigg-gate/express';
import * as fa from 'stigg-gate/fastify';
import * as ho from 'stigg-gate/hono';
import * as ko from 'stigg-gate/koa';
import { createTestEntitlements } from 'stigg-gate/testing';

/*
 * `app.use(requireFeature)` — the factory itself, not its result — is refused when the app is put
 * together wherever the framework lets us see the mount (src/middleware/uncalled.ts): at app.use() on
 * Express and Koa (both majors), at app.ready() on Fastify. Hono's use() reads nothing of a handler and
 * Hono has no start, so there the first request fails, loudly, with the same TypeError.
 */

/* eslint-disable @typescript-eslint/no-require-imports -- each framework major, by its installed alias */
const express5 = require('express') as typeof import('express');
const express4 = require('express4') as typeof import('express');
const koa3 = require('koa') as typeof import('koa');
const koa2 = require('koa2') as typeof import('koa');
const fastify5 = require('fastify') as typeof import('fastify');
const fastify4 = require('fastify4') as typeof import('fastify');
const { Hono } = require('hono') as typeof import('hono');
/* eslint-enable @typescript-eslint/no-require-imports */

const REQUIRE_FEATURE = /^requireFeature was used as a middleware without being called\. Write requireFeature\('feature-id'\)/;
const entitlements = createTestEntitlements({ customers: { c1: { 'f-flag': true } } });
const customer = (): string => 'c1';

describe.each([
  ['express 5', express5],
  ['express 4', express4],
])('%s', (_name, express) => {
  it('app.use(requireFeature) throws the fix-it TypeError at the call', () => {
    const app = express();
    expect(() => app.use(ex.requireFeature as never)).toThrow(TypeError);
    expect(() => app.use(ex.requireFeature as never)).toThrow(REQUIRE_FEATURE);
    expect(() => app.use('/gated', ex.requireFeature as never)).toThrow(REQUIRE_FEATURE);
  });

  it('app.use(stigg) and app.use(entitlementErrorHandler) throw at the call too', () => {
    const app = express();
    expect(() => app.use(ex.stigg as never)).toThrow(/^stigg was used as a middleware without being called/);
    expect(() => app.use(ex.entitlementErrorHandler as never)).toThrow(/^entitlementErrorHandler was used without being called/);
  });

  it('mounts the called factories as before', async () => {
    const app = express();
    app.use(ex.stigg({ entitlements, customer }));
    app.get('/gated', ex.requireFeature('f-flag'), (_req, res) => void res.json({ ok: true }));
    app.use(ex.entitlementErrorHandler());
    await request(app).get('/gated').expect(200, { ok: true });
    expect(ex.requireFeature.name).toBe('requireFeature');
  });
});

describe.each([
  ['koa 3', koa3],
  ['koa 2', koa2],
])('%s', (_name, Koa) => {
  it('app.use(requireFeature) throws the fix-it TypeError at the call', () => {
    const app = new Koa();
    expect(() => app.use(ko.requireFeature as never)).toThrow(TypeError);
    expect(() => app.use(ko.requireFeature as never)).toThrow(REQUIRE_FEATURE);
    expect(app.middleware).toHaveLength(0);
  });

  it('app.use(stigg) and app.use(entitlementErrorHandler) throw at the call too', () => {
    const app = new Koa();
    expect(() => app.use(ko.stigg as never)).toThrow(/^stigg was used as a middleware without being called/);
    expect(() => app.use(ko.entitlementErrorHandler as never)).toThrow(/^entitlementErrorHandler was used without being called/);
  });

  it('mounts the called factories as before', async () => {
    const app = new Koa();
    app.use(ko.entitlementErrorHandler());
    app.use(ko.stigg({ entitlements, customer }));
    app.use(ko.requireFeature('f-flag'));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    await request(app.callback()).get('/').expect(200, { ok: true });
  });
});

describe.each([
  ['fastify 5', fastify5],
  ['fastify 4', fastify4],
])('%s', (_name, fastify) => {
  it('a route with { preHandler: requireFeature } fails app.ready() with the fix-it TypeError', async () => {
    const app = fastify();
    await app.register(fa.stiggPlugin, { entitlements, customer });
    const registered = new Promise<void>((resolve, reject) => {
      try {
        app.get('/gated', { preHandler: fa.requireFeature as never }, async () => ({ ok: true }));
        resolve();
      } catch (error) {
        reject(error);
      }
    });
    const started = registered.then(() => app.ready());
    await expect(started).rejects.toThrow(TypeError);
    await expect(started).rejects.toThrow(REQUIRE_FEATURE);
    await app.close().catch(() => undefined);
  });

  it('finds the factory in a list of hooks, and lets the called one through', async () => {
    const refused = fastify();
    await refused.register(fa.stiggPlugin, { entitlements, customer });
    const started = Promise.resolve()
      .then(() =>
        refused.get('/gated', { preHandler: [fa.requireFeature('f-flag'), fa.requireFeature as never] }, async () => ({ ok: true })),
      )
      .then(() => refused.ready());
    await expect(started).rejects.toThrow(REQUIRE_FEATURE);
    await refused.close().catch(() => undefined);

    const app = fastify();
    await app.register(fa.stiggPlugin, { entitlements, customer });
    app.get('/gated', { preHandler: fa.requireFeature('f-flag') }, async () => ({ ok: true }));
    await app.ready();
    await request(app.server).get('/gated').expect(200, { ok: true });
    await app.close();
  });
});

describe('hono', () => {
  it('app.use(requireFeature) fails its first request with the fix-it TypeError (Hono shows nothing of a handler at use())', async () => {
    const app = new Hono();
    const errors: unknown[] = [];
    app.onError((error, c) => {
      errors.push(error);
      return c.json({ error: error.message }, 500);
    });
    app.use(ho.stigg({ entitlements, customer }));
    app.use(ho.requireFeature as never);
    app.get('/gated', (c) => c.json({ ok: true }));
    const res = await app.request('/gated');
    expect(res.status).toBe(500);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect((errors[0] as Error).message).toMatch(REQUIRE_FEATURE);
  });
});
