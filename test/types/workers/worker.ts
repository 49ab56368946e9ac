import { Hono } from 'hono';
import { Stigg, createEntitlements } from 'stigg-gate';
import { entitlementErrorHandler, requireFeature, stigg, stiggWebhook } from 'stigg-gate/hono';

// Compiled by `npm run typecheck` without @types/node: the hono entry's declarations reach no node: module.

declare const env: { STIGG_SERVER_API_KEY: string; STIGG_API_URL?: string; STIGG_WEBHOOK_SECRET?: string };

const entitlements = createEntitlements({ client: Stigg.createClient(env.STIGG_SERVER_API_KEY, { apiUrl: env.STIGG_API_URL }) });
const app = new Hono();
app.onError(entitlementErrorHandler());
app.use(stigg({ entitlements, customer: (c) => c.req.header('x-customer') }));
app.post('/templates', requireFeature('feature-01-templates', 1), (c) => c.json({ entitlement: c.var.entitlement }));
app.post('/webhooks/stigg', stiggWebhook({ entitlements, secret: env.STIGG_WEBHOOK_SECRET }));

export default app;
