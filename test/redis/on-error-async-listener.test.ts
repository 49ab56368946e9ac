import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import type { Logger } from '../../src/core/types';
import { RedisDataLostError, RedisStore } from '../../src/redis';
import { closedPort, requireRedis, startRedisServer, stopRedisServer, loseEverythingUnder } from './helpers';
import { sleep, waitFor } from '../support/time';

// store.onError(async (error) => { await pager.alert(error) }): an async listener is assignable to
// `(error) => void`, and the pager failing made a rejected promise nobody handled — an unhandled
// rejection, a crash on Node >= 15 (1 unhandled before the fix; the sync throw of finding 9 was
// caught). Its own redis-server: the test flushes it.
requireRedis();

let port: number;
let server: ChildProcess;

beforeAll(async () => {
  port = await closedPort();
  server = await startRedisServer(port);
});
afterAll(async () => {
  await stopRedisServer(server);
});

test('an onError listener returning a rejected promise is caught and logged: no unhandled rejection, the loss still told', async () => {
  const client = new Redis({ port, host: '127.0.0.1' });
  const admin = new Redis({ port, host: '127.0.0.1' });
  const errors: string[] = [];
  const logger: Logger = { warn: () => undefined, error: (meta, message) => errors.push(`${message} ${JSON.stringify(meta)}`) };
  const store = new RedisStore({ redis: client, logger });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const told: Error[] = [];
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- exactly what an app without this rule writes
  store.onError(async () => {
    await sleep(1);
    throw new Error('pager down');
  });
  store.onError((error) => told.push(error));
  try {
    await loseEverythingUnder(store, admin);
    expect(await waitFor(() => errors.length > 0, 5_000)).toBe(true);
    expect(errors[0]).toMatch(/onError listener (threw|failed).*pager down/);
    expect(told.some((error) => error instanceof RedisDataLostError)).toBe(true);
    await sleep(200);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await store.close();
    client.disconnect();
    admin.disconnect();
  }
});
