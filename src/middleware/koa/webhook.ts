import type { Context, Middleware } from 'koa';
import { handleStiggWebhook, type StiggWebhookOptions } from '../../webhook/handler';
import { webhookLimits } from '../../webhook/limits';
import { readBody } from '../../webhook/read-body';

export type { StiggWebhookOptions } from '../../webhook/handler';

/**
 * Receives Stigg's webhooks: `router.post('/webhooks/stigg', stiggWebhook({ entitlements, secret }))`
 * or mounted on a path of its own. Works with or without a body parser in front (it reads
 * ctx.request.body when one set it), and reads the body itself only once the secret matched.
 * See handleStiggWebhook for what it answers.
 */
export function stiggWebhook(options: StiggWebhookOptions): Middleware {
  const handle = handleStiggWebhook(options);
  const limits = webhookLimits(options);
  return async function stiggWebhookMiddleware(ctx: Context) {
    const parsed = (ctx.request as { body?: unknown }).body;
    const result = await handle({
      headers: ctx.headers,
      body: parsed,
      ...(parsed === undefined ? { readBody: () => readBody(ctx.req, limits) } : {}),
    });
    // A body left unread (a refused secret, too large, too slow) is not drained: the connection ends.
    if (!ctx.req.readableEnded) ctx.set('Connection', 'close');
    ctx.status = result.status;
    ctx.body = result.body;
    ctx.type = result.contentType;
  };
}
