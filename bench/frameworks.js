'use strict';
// The Fastify and Hono servers of bench/server.js: the same variants (ungated, floor, gated,
// gated-redis, bare-floor) and the same route as the Express and Koa ones.
const path = require('node:path');

async function fastifyServer({ variant, dist, entitlements, FEATURE, floorMap, onServed }) {
  const app = require('fastify')();
  const handler = async () => {
    onServed();
    return { ok: true };
  };
  if (variant === 'ungated') app.get('/r', handler);
  else if (variant.endsWith('floor')) {
    app.get(
      '/r',
      {
        preHandler: async function floor(request, reply) {
          const entry = floorMap.get(`${request.headers['x-customer']}:${FEATURE}`);
          if (entry === undefined || entry.used + 0 > entry.limit) return reply.code(402).send();
          return undefined;
        },
      },
      handler,
    );
  } else {
    const { stiggPlugin, requireFeature } = require(path.join(dist, 'middleware', 'fastify', 'index.js'));
    await app.register(stiggPlugin, { entitlements, customer: (request) => request.headers['x-customer'] });
    app.get('/r', { preHandler: requireFeature(FEATURE) }, handler);
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

async function honoServer({ variant, dist, entitlements, FEATURE, floorMap, onServed }) {
  const { Hono } = require('hono');
  const { serve } = require('@hono/node-server');
  const app = new Hono();
  const handler = (c) => {
    onServed();
    return c.json({ ok: true });
  };
  if (variant === 'ungated') app.get('/r', handler);
  else if (variant.endsWith('floor')) {
    app.get(
      '/r',
      async function floor(c, next) {
        const entry = floorMap.get(`${c.req.header('x-customer')}:${FEATURE}`);
        if (entry === undefined || entry.used + 0 > entry.limit) return c.body(null, 402);
        await next();
        return undefined;
      },
      handler,
    );
  } else {
    const { stigg, requireFeature } = require(path.join(dist, 'middleware', 'hono', 'index.js'));
    app.use(stigg({ entitlements, customer: (c) => c.req.header('x-customer') }));
    app.get('/r', requireFeature(FEATURE), handler);
  }
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

module.exports = { fastifyServer, honoServer };
