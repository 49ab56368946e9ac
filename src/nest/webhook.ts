import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { handleStiggWebhook, type StiggWebhookOptions, type WebhookResult } from '../webhook/handler';
import { webhookLimits } from '../webhook/limits';
import { readBody } from '../webhook/read-body';
import { isFastifyReply, rawResponse } from './exception';

export type { StiggWebhookOptions } from '../webhook/handler';

/** What a controller hands over with @Req(): an Express request, or a Fastify request (its Node request is `raw`). */
interface RequestLike {
  headers: IncomingHttpHeaders;
  body?: unknown;
  raw?: IncomingMessage;
}

function send(response: unknown, result: WebhookResult, bodyLeftUnread: boolean): void {
  const body = JSON.stringify(result.body);
  if (isFastifyReply(response)) {
    response.code(result.status).header('content-type', result.contentType);
    if (bodyLeftUnread) response.header('connection', 'close');
    response.send(body);
    return;
  }
  const res = rawResponse(response);
  if (res === undefined)
    throw new TypeError(
      'stigg-gate/nest stiggWebhook() answers on @nestjs/platform-express and @nestjs/platform-fastify responses: pass @Res().',
    );
  res.statusCode = result.status;
  res.setHeader('Content-Type', result.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  // A body left unread (a refused secret, too large, too slow) is not drained: the connection ends.
  if (bodyLeftUnread) res.setHeader('Connection', 'close');
  res.end(body);
}

/**
 * Receives Stigg's webhooks in a controller, on either platform:
 *
 *   @Post('webhooks/stigg') @SkipEntitlements()
 *   receive(@Req() req: unknown, @Res() res: unknown) { return this.webhook(req, res); }
 *
 * with `webhook = stiggWebhook({ entitlements, secret })` (the entitlements from STIGG_ENTITLEMENTS).
 * Works with Nest's body parser on or off (rawBody apps): the body is read only once the secret matched.
 */
export function stiggWebhook(options: StiggWebhookOptions): (request: unknown, response: unknown) => Promise<void> {
  const handle = handleStiggWebhook(options);
  const limits = webhookLimits(options);
  return async function stiggWebhookRoute(request, response) {
    const req = request as RequestLike;
    const raw = req.raw ?? (request as IncomingMessage);
    const parsed = req.body !== undefined;
    const result = await handle({ headers: req.headers, body: req.body, ...(parsed ? {} : { readBody: () => readBody(raw, limits) }) });
    send(response, result, !raw.readableEnded);
  };
}
