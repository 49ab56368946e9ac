import net from 'node:net';

/**
 * A TCP proxy in front of the test Redis, to make an outage on demand: `blackhole()` cuts every
 * connection and accepts new ones without ever answering (a Redis that hangs); `refuse()` stops
 * listening (a Redis that is gone); `restore()` forwards again on the same port.
 */
export interface RedisProxy {
  readonly port: number;
  readonly url: string;
  blackhole(): void;
  refuse(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedisProxy(target: string): Promise<RedisProxy> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<net.Socket>();
  let mode: 'forward' | 'blackhole' = 'forward';
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (mode === 'blackhole') return;
    const upstream = net.connect(Number(targetPort || 6379), hostname);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      socket.destroy();
    });
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const cut = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    blackhole() {
      mode = 'blackhole';
      cut();
    },
    refuse() {
      cut();
      return server.listening ? new Promise((resolve) => server.close(() => resolve())) : Promise.resolve();
    },
    async restore() {
      mode = 'forward';
      cut();
      if (!server.listening) await listen(port);
    },
    close() {
      cut();
      return server.listening ? new Promise((resolve) => server.close(() => resolve())) : Promise.resolve();
    },
  };
}
