import type { Request, RequestHandler, Response } from 'express';
import { handleStiggWebhook, type StiggWebhookOptions, type WebhookResult } from '../../webhook/handler';
import { BodyTooLargeError, readBody } from '../../webhook/read-body';

export type { StiggWebhookOptions } from '../../webhook/handler';

function send(res: Response, result: WebhookResult): void {
  const body = JSON.stringify(result.body);
  res.statusCode = result.status;
  res.setHeader('Content-Type', result.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** The body as Stigg sent it: what a body parser made of it (express.json/raw/text), else read here. */
function bodyOf(req: Request): Promise<unknown> {
  if (req.body !== undefined || req.readableEnded) return Promise.resolve(req.body);
  return readBody(req);
}

/**
 * Receives Stigg's webhooks: `app.post('/webhooks/stigg', stiggWebhook({ entitlements, secret }))`.
 * Works with or without express.json() in front. See handleStiggWebhook for what it answers.
 */
export function stiggWebhook(options: StiggWebhookOptions): RequestHandler {
  const handle = handleStiggWebhook(options);
  return function stiggWebhookMiddleware(req, res, next) {
    bodyOf(req)
      .then(
        (body) => handle({ headers: req.headers, body }),
        (error: unknown) => {
          if (!(error instanceof BodyTooLargeError)) throw error;
          return {
            status: 413,
            contentType: 'application/problem+json; charset=utf-8',
            body: { type: 'urn:stigg-gate:problem:webhook-too-large', title: 'Payload Too Large', status: 413, detail: error.message },
          };
        },
      )
      .then((result) => send(res, result), next);
  };
}
