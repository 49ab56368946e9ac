import type http from 'node:http';
import net from 'node:net';
import type { Entitlements } from '../../src/core';
import { deferred, listen, type Adapter } from './harness';
import { watched } from './hangup';

// Keep-alive pipelining scenarios shared by pipelined-hangup.test.ts and its repro (Hono on Node).

export const TEMPLATES = 'feature-01-templates'; // 3 a month on plan-revvenu-basic

export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Two requests written at once on one connection: the first runs a held handler, the second's
 * customer resolution waits until the client hung up. Returns how each grant settled (in grant
 * order) and how many times the handler ran.
 */
export async function goneBeforeDecision(
  adapter: Adapter,
  real: Entitlements,
  CUSTOMER: string,
  track: (server: http.Server) => void,
): Promise<{ outcomes: string[]; runs: number }> {
  const { entitlements, settled } = watched(real);
  const go = deferred();
  const firstStarted = deferred();
  const secondArrived = deferred();
  const decideSecond = deferred();
  let resolved = 0;
  let calls = 0;
  const app = adapter.build({
    entitlements,
    stigg: {
      customer: async () => {
        resolved += 1;
        if (resolved === 2) {
          secondArrived.resolve();
          await decideSecond.promise;
        }
        return CUSTOMER;
      },
    },
    routes: [
      {
        method: 'post',
        path: '/work',
        gates: [{ featureId: TEMPLATES, usage: 1 }],
        handler: {
          hold: () => {
            calls += 1;
            if (calls === 1) firstStarted.resolve();
            return calls === 1 ? go.promise : Promise.resolve();
          },
        },
      },
    ],
  });
  track(app.server);
  const server = app.server;
  const base = new URL(await listen(server));
  const serverSide = deferred<net.Socket>();
  server.once('connection', (socket) => serverSide.resolve(socket));
  const socket = net.connect(Number(base.port), base.hostname);
  socket.on('error', () => {});
  const one = `POST /work HTTP/1.1\r\nHost: ${base.host}\r\nContent-Length: 0\r\n\r\n`;
  socket.write(one + one);
  await Promise.all([firstStarted.promise, secondArrived.promise]);
  const onServer = await serverSide.promise;
  const gone = new Promise<void>((resolve) => (onServer.destroyed ? resolve() : onServer.once('close', () => resolve())));
  socket.destroy();
  await gone;
  decideSecond.resolve();
  go.resolve();
  const outcomes = await within(Promise.all([settled(), settled()]), 10_000, 'two settlements');
  await real.flush();
  return { outcomes, runs: app.runs.get('/work') ?? 0 };
}
