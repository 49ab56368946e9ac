import { Stigg, createEntitlements, MemoryStore, type Logger } from 'stigg-gate';
import * as ex from 'stigg-gate/express';
import * as ho from 'stigg-gate/hono';

// Under exactOptionalPropertyTypes, optional options take `undefined`: values read from the environment
// or passed through from the app's own optional config compile as they are.
declare const env: Record<string, string | undefined>;
declare const maybeLogger: Logger | undefined;
declare const maybeNumber: number | undefined;

const client = Stigg.createClient('key', { apiUrl: env['STIGG_API_URL'], timeoutMs: maybeNumber, logger: maybeLogger });
const entitlements = createEntitlements({
  client,
  store: new MemoryStore({ maxEntries: maybeNumber }),
  cache: { ttlMs: maybeNumber },
  usage: undefined,
  failMode: env['FAIL_OPEN'] === undefined ? undefined : 'open',
  logger: maybeLogger,
});
ex.stigg({ entitlements, customer: () => undefined, logger: maybeLogger, onAbort: undefined, statusMapping: undefined });
ex.requireFeature('feature-01-templates', 1, { resource: undefined, onDenied: undefined });
ex.stiggWebhook({ entitlements, secret: env['STIGG_WEBHOOK_SECRET'], logger: maybeLogger, maxBodyBytes: maybeNumber });
ho.entitlementErrorHandler({ statusMapping: undefined, onError: undefined });
