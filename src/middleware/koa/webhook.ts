import type { Context, Middleware } from 'koa';
import { handleStiggWebhook, type StiggWebhookOptions } from '../../webhook/handler';
import { BodyTooLargeError, readBody } from '../../webhook/read-body';

export type { StiggWebhookOptions } from '../../webhook/handler';

/**
 * Receives Stigg's webhooks: `router.post('/webhooks/stigg', stiggWebhook({ entitlements, secret }))`
 * or mounted on a path of its own. Works with or without a body parser in front (it reads
 * ctx.request.body when one set it). See handleStiggWebhook for what it answers.
 */
export function stiggWebhook(options: StiggWebhookOptions): Middleware {
  const handle = handleStiggWebhook(options);
  return async function stiggWebhookMiddleware(ctx: Context) {
    const parsed = (ctx.request as { body?: unknown }).body;
    let body: unknown = parsed;
    if (parsed === undefined) {
      try {
        body = await readBody(ctx.req);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        ctx.status = 413;
        ctx.type = 'application/problem+json; charset=utf-8';
        ctx.body = { type: 'urn:stigg-gate:problem:webhook-too-large', title: 'Payload Too Large', status: 413, detail: error.message };
        return;
      }
    }
    const result = await handle({ headers: ctx.headers, body });
    ctx.status = result.status;
    ctx.body = result.body;
    ctx.type = result.contentType;
  };
}
