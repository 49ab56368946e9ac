import http from 'node:http';
import type net from 'node:net';
import { Duplex } from 'node:stream';

/** What the app answered. */
export interface InjectedResponse {
  readonly statusCode: number;
  readonly headers: http.OutgoingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
}

export interface InjectOptions {
  /** Default 'GET'. */
  method?: string;
  /** Path and query, e.g. '/templates?draft=1'. */
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON (content-type application/json). */
  body?: unknown;
}

/** A Node request handler: an Express app, `app.getHttpAdapter().getInstance()` of a Nest app on Express, `http.createServer`'s listener. */
export type NodeHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Decodes a chunked HTTP body (`size\r\ndata\r\n…0\r\n\r\n`). */
function unchunk(raw: string): string {
  let body = '';
  let at = 0;
  for (;;) {
    const end = raw.indexOf('\r\n', at);
    const size = parseInt(raw.slice(at, end), 16);
    if (!(size > 0)) return body;
    body += raw.slice(end + 2, end + 2 + size);
    at = end + 2 + size + 2;
  }
}

/**
 * Sends one request to a Node request handler in memory: a stream stands where the socket would, so
 * no port is listened on and nothing touches the network. The response ends the way a server's does
 * ('finish', then 'close' on the next tick), so the gate commits or releases as in production, before
 * the promise resolves.
 */
export function inject(handler: NodeHandler | object, options: InjectOptions): Promise<InjectedResponse> {
  if (typeof handler !== 'function') {
    throw new TypeError(
      'inject() takes a Node request handler: an Express app, or app.getHttpAdapter().getInstance() of a Nest app on Express.',
    );
  }
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  const req = new http.IncomingMessage(socket as net.Socket);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  req.method = options.method ?? 'GET';
  req.url = options.url;
  req.headers = {
    ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) req.headers[name.toLowerCase()] = value;
  if (payload !== undefined) req.push(payload);
  req.push(null);
  // As Node's parser marks a request whose body arrived: else reading it to the end reads as a client gone.
  req.complete = true;
  const res = new http.ServerResponse(req);
  res.assignSocket(socket as net.Socket);
  return new Promise((resolve) => {
    res.once('finish', () => {
      res.detachSocket(socket as net.Socket);
      process.nextTick(() => {
        res.emit('close');
        const raw = Buffer.concat(written).toString('utf8');
        const split = raw.indexOf('\r\n\r\n');
        const rest = raw.slice(split + 4);
        const body = /\r\ntransfer-encoding: chunked\r\n/i.test(raw.slice(0, split + 2)) ? unchunk(rest) : rest;
        resolve({ statusCode: res.statusCode, headers: res.getHeaders(), body, json: <T>() => JSON.parse(body) as T });
      });
    });
    (handler as NodeHandler)(req, res);
  });
}
