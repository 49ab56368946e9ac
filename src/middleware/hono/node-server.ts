import type { Context } from 'hono';

/*
 * What @hono/node-server's bindings (c.env.incoming, c.env.outgoing: Node's request and response)
 * tell the Hono host that the Fetch API does not. Elsewhere (Workers, Bun, Deno) there are none.
 */

/**
 * On @hono/node-server, whether the request's connection is gone: its AbortSignal follows the
 * response's 'close', which Node never emits for a response queued behind an earlier one of its
 * connection (pipelining), so a client that left while such a request was decided looked present.
 */
export function connectionGone(c: Context): boolean {
  const env = c.env as { incoming?: { socket?: { destroyed?: unknown } | null } } | undefined;
  return env?.incoming?.socket?.destroyed === true;
}

/**
 * On @hono/node-server, whether the response's head went out (undefined elsewhere): it reads up to
 * three chunks of a body before writing it, and a body that breaks before then is answered 500.
 */
export function responseStarted(c: Context): boolean | undefined {
  const env = c.env as { outgoing?: { headersSent?: unknown } } | undefined;
  const sent = env?.outgoing?.headersSent;
  return typeof sent === 'boolean' ? sent : undefined;
}
