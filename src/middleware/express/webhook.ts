import type { Request, RequestHandler, Response } from 'express';
import { handleStiggWebhook, type StiggWebhookOptions, type WebhookResult } from '../../webhook/handler';
import { webhookLimits } from '../../webhook/limits';
import { readBody } from '../../webhook/read-body';

export type { StiggWebhookOptions } from '../../webhook/handler';

function send(req: Request, res: Response, result: WebhookResult): void {
  const body = JSON.stringify(result.body);
  res.statusCode = result.status;
  res.setHeader('Content-Type', result.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  // A body left unread (a refused secret, too large, too slow) is not drained: the connection ends.
  if (!req.readableEnded) res.setHeader('Connection', 'close');
  res.end(body);
}

/**
 * Receives Stigg's webhooks: `app.post('/webhooks/stigg', stiggWebhook({ entitlements, secret }))`.
 * Works with or without express.json() in front; reads the body itself only once the secret matched.
 * See handleStiggWebhook for what it answers.
 */
export function stiggWebhook(options: StiggWebhookOptions): RequestHandler {
  const handle = handleStiggWebhook(options);
  const limits = webhookLimits(options);
  return function stiggWebhookMiddleware(req, res, next) {
    const parsed = req.body !== undefined;
    handle({ headers: req.headers, body: req.body, ...(parsed ? {} : { readBody: () => readBody(req, limits) }) }).then(
      (result) => send(req, res, result),
      next,
    );
  };
}
