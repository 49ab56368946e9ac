import { stiggFetchWebhook, type StiggWebhookOptions } from '../../webhook/handler';

export type { StiggWebhookOptions } from '../../webhook/handler';

/**
 * Receives Stigg's webhooks in a route handler: `export const POST = stiggWebhook({ entitlements, secret })`
 * in app/api/webhooks/stigg/route.ts. The secret is checked from the headers before the body is read,
 * the body read within maxBodyBytes and bodyTimeoutMs. See handleStiggWebhook.
 */
export function stiggWebhook(options: StiggWebhookOptions): (request: Request) => Promise<Response> {
  const handle = stiggFetchWebhook(options);
  return function stiggWebhookRoute(request) {
    return handle(request);
  };
}
