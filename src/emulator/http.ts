import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 1_048_576;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

export function send(res: ServerResponse, status: number, body: string, headers?: Record<string, string>): void {
  res.writeHead(status, {
    ...JSON_HEADERS,
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

export function errorJson(message: string, code: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

/** A CORS preflight from an allowed origin (admitOrigin set the headers): allowed headers echo what the browser asks for. */
export function preflight(req: IncomingMessage, res: ServerResponse): void {
  const requested = req.headers['access-control-request-headers'];
  res.writeHead(204, typeof requested === 'string' ? { 'access-control-allow-headers': requested } : {});
  res.end();
}

/** The body as text, or null when it exceeds MAX_BODY_BYTES. */
export function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', function onData(chunk: Buffer) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', function onEnd() {
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** X-API-KEY header, or ?apiKey= for tools that cannot set headers. */
export function authorized(req: IncomingMessage, apiKey: string): boolean {
  const header = req.headers['x-api-key'];
  if (header !== undefined) return header === apiKey;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q !== -1 && new URLSearchParams(url.slice(q + 1)).get('apiKey') === apiKey;
}
