import type http from 'node:http';
import net from 'node:net';
import type { CheckInput, Entitlements, Lease, MaybePromise } from '../../src/core/types';
import { deferred, listen } from './harness';

// Helpers for hang-up tests (issue 23): a request on a raw socket the test hangs up on an event, and
// an Entitlements that announces each lease's settlement, so a test waits for it instead of a timer.

/** The real core, with each lease's first settlement announced (so a test waits for it, not for a timer). */
export function watched(real: Entitlements): { entitlements: Entitlements; settled: () => Promise<string> } {
  const queue: Array<{ promise: Promise<string>; resolve: (how: string) => void }> = [];
  let next = 0;
  function slot(i: number): { promise: Promise<string>; resolve: (how: string) => void } {
    while (queue.length <= i) queue.push(deferred<string>());
    return queue[i]!;
  }
  let granted = 0;
  function wrap(lease: Lease): Lease {
    if (!lease.decision.granted || !lease.decision.metered) return lease;
    const mine = slot(granted);
    granted += 1;
    return {
      decision: lease.decision,
      commit: () => (lease.commit(), mine.resolve('commit')),
      release: () => (lease.release(), mine.resolve('release')),
      settle: (units) => (lease.settle(units), mine.resolve(`settle ${units}`)),
    };
  }
  const entitlements: Entitlements = Object.create(real, {
    acquire: {
      value: (input: CheckInput): MaybePromise<Lease> => {
        const lease = real.acquire(input);
        return lease instanceof Promise ? lease.then(wrap) : wrap(lease);
      },
    },
  });
  return { entitlements, settled: () => slot(next++).promise };
}

export interface Raw {
  /** Resolves with the first bytes the client received. */
  firstData: Promise<string>;
  /** Everything received once the server closed the connection. */
  ended: Promise<string>;
  /** Hangs up and resolves once the server saw the connection close. */
  leave(): Promise<void>;
}

/** A request on a raw socket, so the test decides when the client hangs up. */
export async function rawPost(
  server: http.Server,
  path: string,
  headers: Record<string, string>,
  { read = true }: { read?: boolean } = {},
): Promise<Raw> {
  const address = server.address();
  const base = new URL(address !== null && typeof address === 'object' ? `http://127.0.0.1:${address.port}` : await listen(server));
  const serverSide = deferred<net.Socket>();
  server.once('connection', (socket) => serverSide.resolve(socket));
  const socket = net.connect(Number(base.port), base.hostname);
  socket.on('error', () => {});
  const firstData = deferred<string>();
  const ended = deferred<string>();
  let received = '';
  socket.setEncoding('utf8');
  if (!read) socket.pause(); // a client that never reads: the answer stays in the server's buffers
  socket.on('data', (chunk: string) => {
    received += chunk;
    firstData.resolve(received);
  });
  socket.on('close', () => ended.resolve(received));
  const lines = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`POST ${path} HTTP/1.1\r\nHost: ${base.host}\r\n${lines}Connection: close\r\nContent-Length: 0\r\n\r\n`);
  const onServer = await serverSide.promise;
  return {
    firstData: firstData.promise,
    ended: ended.promise,
    async leave() {
      const closed = new Promise<void>((resolve) => (onServer.destroyed ? resolve() : onServer.once('close', () => resolve())));
      socket.destroy();
      await closed;
    },
  };
}
