import { Hono } from 'hono';
import { Stigg, createEntitlements, type Entitlements } from 'stigg-gate';
import { requireFeature, stigg } from 'stigg-gate/hono';

// The Workers app of test/edge/interval.test.ts: a periodic flush a few ticks a second, and a long
// request (/long, held by the test's control server) that creates the entitlements, so that the
// interval's ticks fire inside it.

interface Bindings {
  STIGG_API_URL: string;
  STIGG_SERVER_API_KEY: string;
  CONTROL_URL: string;
}
type Env = { Bindings: Bindings };

let entitlements: Entitlements | undefined;

function engine(env: Bindings): Entitlements {
  entitlements ??= createEntitlements({
    client: Stigg.createClient(env.STIGG_SERVER_API_KEY, { apiUrl: env.STIGG_API_URL, maxRetries: 0 }),
    usage: { flushIntervalMs: 200 },
  });
  return entitlements;
}

const app = new Hono<Env>();
/** What the isolate still has to deliver, without waiting on a flush (a stuck one never ends). */
app.get('/outbox', (c) => c.json({ depth: engine(c.env).health().outbox.depth }));
/** A flush started and not waited for (no waitUntil): the request ends while it is on its way. */
app.post('/fire', async (c) => {
  const ent = engine(c.env);
  await ent.report({ customerId: c.req.query('customer') ?? '', featureId: 'feature-01-templates', value: 1 });
  void ent.flush().catch(() => undefined);
  return c.text('fired');
});
app.get('/long', async (c) => {
  engine(c.env);
  await (await fetch(`${c.env.CONTROL_URL}/long`)).text();
  return c.text('long done');
});
app.use((c, next) => stigg({ entitlements: engine(c.env), customer: (cc) => cc.req.header('x-customer') })(c, next));
app.post('/work', requireFeature('feature-01-templates', 1), (c) => c.json({ ok: true }));

export default app;
