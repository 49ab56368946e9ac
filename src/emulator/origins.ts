import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorJson, send } from './http';

/** Origins whose pages may call the emulator from a browser: a list, '*' for any, or none (the default). */
export type CorsOrigins = readonly string[] | '*';

const ALLOW_METHODS = 'GET, POST, OPTIONS';
const ALLOW_HEADERS =
  'content-type, x-api-key, source, x-graphql-operation-name, x-sdk-instance-id, x-sdk-os-process-hostname, x-sdk-os-process-id, x-sdk-os-process-timestamp, x-sdk-os-process-fingerprint, x-sdk-version, x-sdk-name, x-customer-id, x-resource-id';

export function checkCors(value: unknown): void {
  if (value === undefined || value === '*') return;
  if (!Array.isArray(value) || value.some((origin) => typeof origin !== 'string' || !/^https?:\/\/[^/\s]+$/.test(origin))) {
    throw new TypeError(
      `${JSON.stringify(value)} is not a valid value for cors. Please pass the origins of the pages that call the emulator, e.g. ['http://localhost:5173'], or '*' for any.`,
    );
  }
}

/**
 * Browsers send Origin on every cross-origin call; servers and Stigg's node SDK send none. A page the
 * developer did not allow must not read /stats or provision customers on a laptop (a request from
 * another origin is refused with 403 before any work), and no answer carries CORS headers unless its
 * origin was allowed. True when the request may go on; the response headers are set.
 */
export function admitOrigin(req: IncomingMessage, res: ServerResponse, cors: CorsOrigins | undefined): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const allowed = cors === '*' || (cors !== undefined && cors.includes(origin));
  if (!allowed) {
    send(
      res,
      403,
      errorJson(
        `Origin ${origin} may not call this emulator. Start it with cors: ['${origin}'] (CLI: --cors ${origin}) to let that page in.`,
        'FORBIDDEN_ORIGIN',
      ),
    );
    return false;
  }
  res.setHeader('access-control-allow-origin', cors === '*' ? '*' : origin);
  if (cors !== '*') res.setHeader('vary', 'Origin');
  res.setHeader('access-control-allow-methods', ALLOW_METHODS);
  res.setHeader('access-control-allow-headers', ALLOW_HEADERS);
  res.setHeader('access-control-max-age', '600');
  return true;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The name a Host header carries, lower-cased, without its port or a trailing dot. */
function hostnameOf(header: string): string {
  const name = header.startsWith('[') ? header.replace(/^(\[[^\]]*\])(?::\d*)?$/, '$1') : header.replace(/:\d*$/, '');
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * DNS rebinding: a page whose name the attacker re-points at 127.0.0.1 calls the emulator
 * same-origin, so a GET carries no Origin, only that name in Host. An emulator bound to loopback
 * answers only loopback names (localhost, *.localhost, 127.0.0.1, [::1]; no Host at all, as HTTP/1.0
 * tools send, too); bound elsewhere it answers any name (it then warns about its key). True when the
 * request may go on; else it was answered 403.
 */
export function admitHost(req: IncomingMessage, res: ServerResponse, loopbackOnly: boolean): boolean {
  const header = req.headers.host;
  if (!loopbackOnly || header === undefined) return true;
  const name = hostnameOf(header);
  if (LOOPBACK_HOSTS.has(name) || name.endsWith('.localhost')) return true;
  send(
    res,
    403,
    errorJson(
      `Host ${header} is not a loopback name: this emulator listens on loopback and answers only localhost, 127.0.0.1 and [::1] (a page on another name may be a DNS-rebinding attack). Start it with host: '0.0.0.0' (CLI: --host) to serve other names.`,
      'FORBIDDEN_HOST',
    ),
  );
  return false;
}
