import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import Redis from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

const HOW_TO_START = 'Start it with: redis-server --daemonize yes --port 6379 --save "" --appendonly no';

/** A client to the local Redis; fails (never skips) with the address and how to start it when it is not there. */
export async function connectRedis(): Promise<Redis> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(
      `The redis tests need a Redis server at 127.0.0.1:6379 and none answered (${(error as Error).message}). ${HOW_TO_START}`,
    );
  }
  return client;
}

export function uniquePrefix(): string {
  return `stigg-gate-test:${randomBytes(6).toString('hex')}:`;
}

export async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await client.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** A loopback port nothing listens on. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
