import type { FastifyPluginCallback } from 'fastify';
import { handleStiggWebhook, type StiggWebhookOptions } from '../../webhook/handler';
import { webhookLimits } from '../../webhook/limits';
import { readBody } from '../../webhook/read-body';

export type { StiggWebhookOptions } from '../../webhook/handler';

/**
 * Receives Stigg's webhooks, as a plugin with a scope of its own:
 * `app.register(stiggWebhook({ entitlements, secret }), { prefix: '/webhooks/stigg' })` answers POST on the
 * prefix. Its scope parses no body: the secret is checked from the headers first, then the body read within
 * maxBodyBytes and bodyTimeoutMs. See handleStiggWebhook for what it answers.
 */
export function stiggWebhook(options: StiggWebhookOptions): FastifyPluginCallback {
  const handle = handleStiggWebhook(options);
  const limits = webhookLimits(options);
  return function stiggWebhookPlugin(scope, _options, done) {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', function leaveUnread(_request, _payload, parsed) {
      parsed(null, undefined);
    });
    scope.post('/', async function stiggWebhookRoute(request, reply) {
      const result = await handle({ headers: request.headers, readBody: () => readBody(request.raw, limits) });
      // A body left unread (a refused secret, too large, too slow) is not drained: the connection ends.
      if (!request.raw.readableEnded) reply.header('connection', 'close');
      return reply.code(result.status).header('content-type', result.contentType).send(JSON.stringify(result.body));
    });
    done();
  };
}
