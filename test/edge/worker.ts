import { Hono, type MiddlewareHandler } from 'hono';
import { Stigg, createEntitlements, type Entitlements } from 'stigg-gate';
import { entitlementErrorHandler, requireFeature, stigg } from 'stigg-gate/hono';

// The Workers app of the workerd test: bindings arrive with the first request, so the
// entitlements (one per isolate) and the stigg() middleware are created then.

interface Bindings {
  STIGG_API_URL: string;
  STIGG_SERVER_API_KEY: string;
}

type Env = { Bindings: Bindings };

let entitlements: Entitlements | undefined;
let gate: MiddlewareHandler<Env> | undefined;

function gateFor(env: Bindings): MiddlewareHandler<Env> {
  entitlements ??= createEntitlements({
    client: Stigg.createClient(env.STIGG_SERVER_API_KEY, { apiUrl: env.STIGG_API_URL, maxRetries: 0 }),
    // Only waitUntil can deliver the usage while the test looks: the periodic flush is an hour away.
    usage: { flushIntervalMs: 3_600_000 },
  });
  gate ??= stigg({ entitlements, customer: (c) => c.req.header('x-customer') });
  return gate;
}

const app = new Hono<Env>();
app.onError(entitlementErrorHandler());
app.use((c, next) => gateFor(c.env)(c, next));
app.post('/templates', requireFeature('feature-01-templates', 1), (c) => c.json({ entitlement: c.var.entitlement }));
app.post('/campaigns-settled', requireFeature('feature-02-campaigns', 1), (c) => {
  c.var.entitlement?.settle?.(2); // the work used 2 of the 1 reserved
  return c.json({ settled: 2 });
});
app.get('/analytics', requireFeature('feature-04-analytics'), (c) => c.json({ entitlement: c.var.entitlement }));

export default app;
