import type { Context } from 'hono';
import { stiggFetchWebhook, type StiggWebhookOptions } from '../../webhook/handler';

export type { StiggWebhookOptions } from '../../webhook/handler';

/**
 * Receives Stigg's webhooks: `app.post('/webhooks/stigg', stiggWebhook({ entitlements, secret }))`, on
 * Node and Workers. The secret is checked from the headers before the body is read (do not put a body
 * validator in front), the body read within maxBodyBytes and bodyTimeoutMs. See handleStiggWebhook.
 */
export function stiggWebhook(options: StiggWebhookOptions): (c: Context) => Promise<Response> {
  const handle = stiggFetchWebhook(options);
  return function stiggWebhookHandler(c) {
    return handle(c.req.raw);
  };
}
