import Fastify from 'fastify';
import { currentRequestContext, enableRequestContext, isRequestContextEnabled } from '../../src/core/context';
import { requireFeature, stiggPlugin } from '../../src/middleware/fastify';
import { FakeEntitlements } from './fake';

// Its own file: enableRequestContext() is process-wide. stiggPlugin adds its onRequest hook (the
// AsyncLocalStorage context for decorated methods) only when stigg-gate/decorators is already
// loaded: an app that never uses decorators pays no hook per request. Loaded after registration,
// the gated routes still enter the context, and the app is told about the ungated ones.

test('decorators loaded after stiggPlugin was registered: gated routes still see the request context, and one warning says why others do not', async () => {
  expect(isRequestContextEnabled()).toBe(false);
  const warnings: unknown[] = [];
  const logger = { warn: (_meta: unknown, message: string) => warnings.push(message), error: () => undefined };
  const fake = new FakeEntitlements();
  const app = Fastify();
  await app.register(stiggPlugin, { entitlements: fake, customer: (request) => request.headers['x-customer'] as string, logger });
  const seen: Array<{ customer: unknown; entitlements: unknown } | undefined> = [];
  async function service(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const context = currentRequestContext();
    seen.push(context === undefined ? undefined : { customer: await context.customerId(), entitlements: context.entitlements });
  }
  app.get('/gated', { preHandler: requireFeature('f') }, async () => {
    await service();
    return { ok: true };
  });
  app.get('/open', async () => {
    await service();
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { port } = app.server.address() as { port: number };
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'x-customer': 'c1' } });

    expect((await get('/gated')).status).toBe(200);
    expect(seen).toEqual([undefined]);
    expect(warnings).toEqual([]);

    enableRequestContext();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/stigg-gate\/decorators was loaded after stiggPlugin was registered.*Import stigg-gate\/decorators before/);

    seen.length = 0;
    expect((await get('/gated')).status).toBe(200);
    expect((await get('/open')).status).toBe(200);
    expect(seen).toEqual([{ customer: 'c1', entitlements: fake }, undefined]);

    enableRequestContext();
    expect(warnings).toHaveLength(1);
  } finally {
    await app.close();
  }
});

test('decorators loaded first: every route of the plugin scope sees the request context', async () => {
  enableRequestContext();
  const fake = new FakeEntitlements();
  const app = Fastify();
  await app.register(stiggPlugin, { entitlements: fake, customer: (request) => request.headers['x-customer'] as string });
  let seen: unknown = 'not called';
  app.get('/open', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    seen = await currentRequestContext()?.customerId();
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { port } = app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/open`, { headers: { 'x-customer': 'c2' } });
    expect(res.status).toBe(200);
    expect(seen).toBe('c2');
  } finally {
    await app.close();
  }
});
