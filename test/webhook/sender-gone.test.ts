import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import Koa from 'koa';
import { stiggWebhook as expressWebhook } from '../../src/middleware/express';
import { stiggWebhook as koaWebhook } from '../../src/middleware/koa';

// A sender (holding the secret) that hangs up mid-body: the read failed with Node's "aborted"
// error, which went to the app's error handler as a 500 (Express's default one prints its stack;
// Koa's emits 'error') — 1 error per aborted request before the fix, for a failure nobody can be
// answered about. Now the webhook settles it itself (a 400 to a closed socket), the app hears nothing.
const SECRET = 'whsec-gone-0123456789';
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

/** Announces 1,000 bytes, sends 10, then resets the connection; resolves once the socket closed. */
function hangUpMidBody(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nStigg-Webhooks-Secret: ${SECRET}\r\nContent-Length: 1000\r\n\r\n{"type":"e`,
      );
      setTimeout(() => socket.resetAndDestroy(), 200);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

it('Express: the app error handler never hears of a sender that hung up mid-body', async () => {
  const seen: unknown[] = [];
  const app = express();
  app.post('/hook', expressWebhook({ entitlements, secret: SECRET }));
  const recordError: ErrorRequestHandler = (error, _req, res, _next) => {
    seen.push(error);
    res.status(500).end();
  };
  app.use(recordError);
  const port = await listen((req, res) => void app(req, res));
  await hangUpMidBody(port);
  await hangUpMidBody(port);
  await settle();
  expect(seen).toEqual([]);
});

it("Koa: no 'error' event for a sender that hung up mid-body", async () => {
  const seen: unknown[] = [];
  const app = new Koa();
  app.on('error', (error) => seen.push(error));
  app.use(koaWebhook({ entitlements, secret: SECRET }));
  const callback = app.callback();
  const port = await listen((req, res) => void callback(req, res));
  await hangUpMidBody(port);
  await hangUpMidBody(port);
  await settle();
  // Koa itself reports the reset socket (a read syscall's ECONNRESET) on any route; what must not
  // reach the app is the webhook's own failed read ('aborted', thrown from the middleware).
  expect(seen.filter((error) => (error as { syscall?: string }).syscall === undefined)).toEqual([]);
});
