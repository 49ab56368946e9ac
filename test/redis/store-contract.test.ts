import type Redis from 'ioredis';
import { RedisStore } from '../../src/redis';
import { describeStoreContract } from '../store/contract';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';

requireRedis();

let redis: Redis;

beforeAll(async () => {
  redis = await connectRedis();
});

afterAll(async () => {
  await redis.quit();
});

// Redis keeps time itself: advance() waits. The peer is a second store on the same prefix (another
// process); neither keeps a near cache, so every read is Redis's.
describeStoreContract('RedisStore', () => {
  const prefix = uniquePrefix();
  const store = new RedisStore({ redis, prefix, nearCacheMs: 0 });
  const peers: RedisStore[] = [];
  return {
    store,
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    peer: () => {
      const peer = new RedisStore({ redis, prefix, nearCacheMs: 0 });
      peers.push(peer);
      return peer;
    },
    close: async () => {
      await Promise.all([store, ...peers].map((each) => each.close()));
      await deleteKeys(redis, prefix);
    },
  };
});
