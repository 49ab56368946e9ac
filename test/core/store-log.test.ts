import { StoreLog } from '../../src/core/store-log';

// Store failures are logged per kind, rate-limited as upstream failures are (docs/redis.md: an
// outage "is logged once"), and every one still reaches 'store:error' (the runtime emits it).

function storeError(name: string, operation: string): Error {
  return Object.assign(new Error(`${operation} failed: connection refused`), { name, operation });
}

it('the first failure of a kind at error, then one warn a minute per kind with the number not logged', () => {
  let now = 0;
  const lines: Array<[string, Record<string, unknown>, string]> = [];
  const log = new StoreLog(
    {
      warn: (meta, message) => void lines.push(['warn', meta, message]),
      error: (meta, message) => void lines.push(['error', meta, message]),
    },
    'redis',
    () => now,
  );
  log.failed(storeError('RedisStoreError', 'reserve'));
  log.failed(storeError('RedisStoreError', 'claimUsage'));
  log.failed(storeError('RedisStoreError', 'getEntitlement'));
  log.failed(storeError('OutboxFullError', 'enqueueUsage'));
  now += 59_999;
  log.failed(storeError('RedisStoreError', 'claimUsage'));
  now += 1;
  log.failed(storeError('RedisStoreError', 'claimUsage'));
  expect(lines.map(([level, meta, message]) => [level, meta['kind'], meta['operation'], message])).toEqual([
    ['error', 'RedisStoreError', 'reserve', 'Entitlements store "redis" failed'],
    ['error', 'OutboxFullError', 'enqueueUsage', 'Entitlements store "redis" failed'],
    ['warn', 'RedisStoreError', 'claimUsage', 'Entitlements store "redis" failed (3 more like it in the last minute were not logged)'],
  ]);
});
