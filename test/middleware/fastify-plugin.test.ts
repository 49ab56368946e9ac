import type { FastifyInstance } from 'fastify';
import { FakeEntitlements } from './fake';
import { entitlementErrorHandler, requireFeature, stiggPlugin } from '../../src/middleware/fastify';

// What only the Fastify adapter has: a plugin whose scope follows Fastify's encapsulation, and
// options that reach it through register(). The HTTP behaviour is in the shared table. Requests go
// over loopback HTTP: Fastify 5's inject() needs an ESM-only cookie package jest cannot load.

async function get(app: FastifyInstance, url: string): Promise<{ statusCode: number; json: () => any }> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}${url}`);
  const body: unknown = await res.json();
  return { statusCode: res.status, json: () => body };
}

type Factory = (options?: object) => FastifyInstance;

const versions: Array<[string, Factory]> = [
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the two majors are loaded side by side, untyped on purpose
  ['fastify 5', require('fastify')],
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
  ['fastify 4', require('fastify4')],
];

describe.each(versions)('%s: stiggPlugin', (_name, fastify) => {
  let fake: FakeEntitlements;
  beforeEach(() => {
    fake = new FakeEntitlements();
  });

  test('applies to the scope it is registered in and its children, not to sibling scopes', async () => {
    const app = fastify();
    app.register(async function billed(scope) {
      await scope.register(stiggPlugin, { entitlements: fake, customer: () => 'c1' });
      scope.get('/billed', { preHandler: requireFeature('f') }, async (request) => ({
        featureId: request.entitlement?.featureId,
      }));
      scope.register(async function child(inner) {
        inner.get('/billed/child', { preHandler: requireFeature('f') }, async () => ({ ok: true }));
      });
    });
    app.register(async function sibling(scope) {
      scope.get('/sibling', { preHandler: requireFeature('f') }, async () => ({ ran: true }));
    });
    expect((await get(app, '/billed')).json()).toEqual({ featureId: 'f' });
    expect((await get(app, '/billed/child')).statusCode).toBe(200);
    const sibling = await get(app, '/sibling');
    expect(sibling.statusCode).toBe(500);
    expect(sibling.json().message).toMatch(/^requireFeature\('f'\) ran on a request whose route is outside every stiggPlugin scope/);
    await app.close();
  });

  test('a child scope may register it again with its own options', async () => {
    const app = fastify();
    await app.register(stiggPlugin, { entitlements: fake, customer: () => 'outer' });
    app.get('/outer', { preHandler: requireFeature('f') }, async () => ({}));
    app.register(async function tenant(scope) {
      await scope.register(stiggPlugin, { entitlements: fake, customer: () => 'inner' });
      scope.get('/inner', { preHandler: requireFeature('f') }, async () => ({}));
    });
    await get(app, '/outer');
    await get(app, '/inner');
    expect(fake.calls.map((call) => call.customerId)).toEqual(['outer', 'inner']);
    await app.close();
  });

  test('bad options fail app.ready() with the fix-it TypeError; register() options of Fastify itself are fine', async () => {
    await expect(
      fastify()
        .register(stiggPlugin, { customer: () => 'c1' } as never)
        .ready(),
    ).rejects.toThrow(
      "stigg() needs the entitlements option: pass the instance returned by createEntitlements({ client }) from 'stigg-gate'.",
    );
    await expect(
      fastify()
        .register(stiggPlugin, { entitlements: fake } as never)
        .ready(),
    ).rejects.toThrow('customer: (request) => request.user?.stiggCustomerId');
    await expect(
      fastify()
        .register(stiggPlugin, { entitlements: fake, customer: () => 'c1', statusMaping: {} } as never)
        .ready(),
    ).rejects.toThrow(/"statusMaping" is not an option of stigg\(\)\. Did you mean "statusMapping"\?/);
    const app = fastify();
    await expect(
      app.register(stiggPlugin, { entitlements: fake, customer: () => 'c1', prefix: '/v1', logLevel: 'warn' } as never).ready(),
    ).resolves.toBeDefined();
    await app.close();
  });

  test('entitlementErrorHandler validates its options and rethrows what is not an entitlement error', async () => {
    expect(() => entitlementErrorHandler({ statusMaping: {} } as never)).toThrow(/Did you mean "statusMapping"\?/);
    const app = fastify();
    const failure = new Error('database down');
    app.register(async function scoped(scope) {
      scope.setErrorHandler(entitlementErrorHandler());
      scope.get('/fails', async () => {
        throw failure;
      });
    });
    const res = await get(app, '/fails');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ message: 'database down' });
    await app.close();
  });

  test.each([
    ['no error handler of its own', false],
    ['only entitlementErrorHandler(), which rethrows it', true],
  ])("a resolver that throws, %s: 500 problem+json without the resolver's message, which goes to the logger", async (_name, handler) => {
    const errors: unknown[][] = [];
    const logger = { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) };
    const leak = new Error('password authentication failed for user "billing" at 10.0.0.7');
    const app = fastify();
    app.register(async function scoped(scope) {
      if (handler) scope.setErrorHandler(entitlementErrorHandler());
      await scope.register(stiggPlugin, {
        entitlements: fake,
        logger,
        customer: () => {
          throw leak;
        },
      });
      scope.get('/gated', { preHandler: requireFeature('f') }, async () => ({ ok: true }));
    });
    const res = await get(app, '/gated');
    expect(res.statusCode).toBe(500);
    expect(JSON.stringify(res.json())).not.toMatch(/password|billing|10\.0\.0\.7/);
    expect(res.json()).toMatchObject({ status: 500, title: 'Internal Server Error' });
    expect(errors).toEqual([[{ error: leak }, expect.stringMatching(/resolver of requireFeature\(\) failed/)]]);
    await app.close();
  });

  test("a resolver's error reaches the app's own error handler as it is; a 4xx HTTP error keeps its message", async () => {
    const seen: unknown[] = [];
    const denied = Object.assign(new Error('Sign in first'), { statusCode: 401 });
    const app = fastify();
    app.setErrorHandler(function appHandler(error, _request, reply) {
      seen.push(error);
      void reply.code(418).send({ handled: true });
    });
    app.register(async function scoped(scope) {
      await scope.register(stiggPlugin, {
        entitlements: fake,
        customer: (request) => {
          throw request.headers['x-kind'] === 'http' ? denied : new Error('database down');
        },
      });
      scope.get('/gated', { preHandler: requireFeature('f') }, async () => ({ ok: true }));
    });
    expect((await get(app, '/gated')).statusCode).toBe(418);
    expect(seen).toEqual([new Error('database down')]);
    await app.close();
    const bare = fastify();
    await bare.register(stiggPlugin, {
      entitlements: fake,
      customer: () => {
        throw denied;
      },
    });
    bare.get('/gated', { preHandler: requireFeature('f') }, async () => ({ ok: true }));
    const res = await get(bare, '/gated');
    expect([res.statusCode, res.json()]).toEqual([401, expect.objectContaining({ message: 'Sign in first' })]);
    await bare.close();
  });
});
