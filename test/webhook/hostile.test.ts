import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { handleStiggWebhook, stiggFetchWebhook } from '../../src';
import { stiggWebhook as expressWebhook } from '../../src/middleware/express';
import { stiggWebhook as fastifyWebhook } from '../../src/middleware/fastify';
import { stiggWebhook as honoWebhook } from '../../src/middleware/hono';
import { stiggWebhook as koaWebhook } from '../../src/middleware/koa';
import { readFetchBody, webhookLimits } from '../../src/webhook/limits';
import { readBody } from '../../src/webhook/read-body';

// Webhook endpoints face the internet: the secret is compared from the headers before any byte of the
// body is read, bodies are capped in size and time, and an endpoint without a secret refuses.
const SECRET = 'whsec-hostile-0123456789';
const MiB = 1024 * 1024;
const entitlements = { invalidate: async () => undefined };
const servers: http.Server[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function expressApp(): http.RequestListener {
  const app = express();
  app.post('/hook', expressWebhook({ entitlements, secret: SECRET }));
  return (req, res) => void app(req, res);
}

function koaApp(): http.RequestListener {
  const app = new Koa();
  app.use(koaWebhook({ entitlements, secret: SECRET }));
  const callback = app.callback();
  return (req, res) => void callback(req, res);
}

async function fastifyApp(): Promise<http.RequestListener> {
  let listener: http.RequestListener | undefined;
  const app = Fastify({
    serverFactory: (handler) => {
      listener = handler;
      return http.createServer(handler);
    },
  });
  await app.register(fastifyWebhook({ entitlements, secret: SECRET }), { prefix: '/hook' });
  await app.ready();
  return listener as http.RequestListener;
}

function honoApp(): http.RequestListener {
  const app = new Hono();
  app.post('/hook', honoWebhook({ entitlements, secret: SECRET }));
  const listener = getRequestListener(app.fetch);
  return (req, res) => void listener(req, res);
}

/** Sends headers announcing `declared` bytes and only `sent` of them; resolves with the status line once answered. */
function partialPost(port: number, headers: Record<string, string>, declared: number, sent: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
    const lines = Object.entries({ ...headers, 'content-length': String(declared), 'content-type': 'application/json' })
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n');
    socket.write(`POST /hook HTTP/1.1\r\nhost: localhost\r\n${lines}\r\n\r\n`);
    socket.write('x'.repeat(sent));
  });
}

describe.each([
  ['Express', expressApp],
  ['Koa', koaApp],
  ['Fastify', fastifyApp],
  ['Hono (node-server)', honoApp],
])('%s', (_name, app: () => http.RequestListener | Promise<http.RequestListener>) => {
  it('200 connections without the secret are answered 401 before their bodies arrive (nothing is buffered)', async () => {
    const port = await listen(await app());
    const statuses = await Promise.all(Array.from({ length: 200 }, () => partialPost(port, {}, MiB, 16 * 1024)));
    expect(new Set(statuses)).toEqual(new Set(['HTTP/1.1 401 Unauthorized']));
  });

  it('a declared body over 1 MiB is refused 413 with the secret, before it is read', async () => {
    const port = await listen(await app());
    expect(await partialPost(port, { 'stigg-webhooks-secret': SECRET }, 64 * MiB, 1024)).toBe('HTTP/1.1 413 Payload Too Large');
  });
});

it('Express and Koa: a body that does not arrive within bodyTimeoutMs is answered 408', async () => {
  const slowExpress = express();
  slowExpress.post('/hook', expressWebhook({ entitlements, secret: SECRET, bodyTimeoutMs: 200 }));
  const slowKoa = new Koa();
  slowKoa.use(koaWebhook({ entitlements, secret: SECRET, bodyTimeoutMs: 200 }));
  const koaCallback = slowKoa.callback();
  const listeners: http.RequestListener[] = [(req, res) => void slowExpress(req, res), (req, res) => void koaCallback(req, res)];
  for (const listener of listeners) {
    const port = await listen(listener);
    expect(await partialPost(port, { 'stigg-webhooks-secret': SECRET }, 1000, 10)).toBe('HTTP/1.1 408 Request Timeout');
  }
});

/** A 64 MiB body produced on demand, counting what the reader pulled. */
function endless(): { stream: Readable; pulled: () => number } {
  let pulled = 0;
  const chunk = Buffer.alloc(64 * 1024, 120);
  const stream = new Readable({
    read() {
      if (pulled >= 64 * MiB) return void this.push(null);
      pulled += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

it('a chunked 64 MiB body (no Content-Length) is refused after at most 1 MiB and a few chunks are read', async () => {
  const { stream, pulled } = endless();
  Object.assign(stream, { headers: {} });
  await expect(readBody(stream as unknown as http.IncomingMessage, webhookLimits({}))).rejects.toThrow(/exceeds 1048576 bytes/);
  expect(pulled()).toBeLessThanOrEqual(MiB + 4 * 64 * 1024);
  stream.destroy();

  const fetchSide = endless();
  const request = new Request('http://localhost/hook', {
    method: 'POST',
    body: Readable.toWeb(fetchSide.stream),
    duplex: 'half',
  });
  await expect(readFetchBody(request, webhookLimits({}))).rejects.toThrow(/exceeds 1048576 bytes/);
  expect(fetchSide.pulled()).toBeLessThanOrEqual(MiB + 4 * 64 * 1024);
});

it('Fetch API: 401 without reading the body, 413 for a declared 64 MiB body, the body read once the secret matched', async () => {
  const handle = stiggFetchWebhook({ entitlements, secret: SECRET });
  const { stream, pulled } = endless();
  const unauthorized = await handle(new Request('http://localhost/hook', { method: 'POST', body: Readable.toWeb(stream), duplex: 'half' }));
  expect(unauthorized.status).toBe(401);
  expect(pulled()).toBeLessThanOrEqual(2 * 64 * 1024);
  stream.destroy();
  const tooLarge = await handle(
    new Request('http://localhost/hook', {
      method: 'POST',
      headers: { 'stigg-webhooks-secret': SECRET, 'content-length': String(64 * MiB) },
      body: 'x',
    }),
  );
  expect([tooLarge.status, ((await tooLarge.json()) as { type: string }).type]).toEqual([413, 'urn:stigg-gate:problem:webhook-too-large']);
});

it('without a secret every request is refused 401, said once at construction (a process warning without a logger); allowUnauthenticated opts out', async () => {
  const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    const handle = handleStiggWebhook({ entitlements, secret: undefined });
    const result = await handle({ headers: {}, body: { type: 'entitlements.updated' } });
    expect([result.status, result.body.detail]).toEqual([401, 'This endpoint has no secret configured, so it accepts no request.']);
    await handle({ headers: {}, body: {} });
    expect(emitted.mock.calls.map((call) => call[0])).toEqual([expect.stringMatching(/no secret configured.*allowUnauthenticated/)]);
    const errors: string[] = [];
    handleStiggWebhook({ entitlements, logger: { warn: () => undefined, error: (_meta, message) => errors.push(message) } });
    expect(errors).toEqual([expect.stringMatching(/every request is refused/)]);
    expect(emitted).toHaveBeenCalledTimes(1);
  } finally {
    emitted.mockRestore();
  }
});

it('bad limits and unknown options throw at construction with the fix', () => {
  expect(() => handleStiggWebhook({ entitlements, secret: SECRET, maxBodyBytes: 0 })).toThrow(/maxBodyBytes.*> 0/);
  expect(() => handleStiggWebhook({ entitlements, secret: SECRET, bodyTimeoutMs: Number.NaN })).toThrow(/bodyTimeoutMs/);
  expect(() => handleStiggWebhook({ entitlements, secret: SECRET, allowUnauthenticated: 'yes' as never })).toThrow(/true or false/);
  expect(() => handleStiggWebhook({ entitlements, secret: SECRET, maxBody: 10 } as never)).toThrow(/Did you mean "maxBodyBytes"/);
});
