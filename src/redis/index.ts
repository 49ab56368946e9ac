export { RedisStore } from './store';
export type { RedisStoreOptions, RedisClientLike } from './store';
export { RedisStoreError } from './errors';
export { RedisDataLostError } from './data-loss';
