import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { Stigg, createEntitlements } from 'stigg-gate';
import * as ex from 'stigg-gate/express';
import * as fa from 'stigg-gate/fastify';
import * as ho from 'stigg-gate/hono';
import * as ko from 'stigg-gate/koa';

const entitlements = createEntitlements({ client: Stigg.createClient('key') });

// Express resolvers get (req, res): the customer may come from what the app's auth put in res.locals.
const expressApp = express();
expressApp.use(ex.stigg({ entitlements, customer: (_req, res) => res.locals['user'] as string | undefined }));
expressApp.post(
  '/campaigns',
  ex.requireFeature('feature-02-campaigns', (req, res) => Number(req.body?.count ?? res.locals['count'] ?? 1)),
);
// @ts-expect-error requireFeature is a factory: app.use(requireFeature) without the call is refused.
expressApp.use(ex.requireFeature);

const koaApp = new Koa();
koaApp.use(ko.stigg({ entitlements, customer: (ctx) => ctx.get('x-customer') }));
// Koa's use() infers its context type from the function given, so tsc accepts koaApp.use(ko.requireFeature):
// the first request then fails with a TypeError that names the fix (test/middleware/options.test.ts).

const honoApp = new Hono();
honoApp.use(ho.stigg({ entitlements, customer: (c) => c.req.header('x-customer') }));
// @ts-expect-error requireFeature is a factory: app.use(requireFeature) without the call is refused.
honoApp.use(ho.requireFeature);

// Fastify resolvers get (request, reply); every adapter exports stiggWebhook.
const fastifyApp = Fastify();
void fastifyApp.register(fa.stiggPlugin, {
  entitlements,
  customer: (request, _reply) => request.headers['x-customer'] as string | undefined,
});
fastifyApp.get('/analytics', { preHandler: fa.requireFeature('feature-04-analytics') }, async (request) => request.entitlement);
void fastifyApp.register(fa.stiggWebhook({ entitlements, secret: 'whsec' }), { prefix: '/webhooks/stigg' });
honoApp.post('/webhooks/stigg', ho.stiggWebhook({ entitlements, secret: 'whsec' }));
expressApp.post('/webhooks/stigg', ex.stiggWebhook({ entitlements, secret: 'whsec' }));
koaApp.use(ko.stiggWebhook({ entitlements, secret: 'whsec' }));
