import type { Runtime } from './runtime';
import type { Health, StoreHealth } from './types';
import type { UsageBuffer } from './usage-buffer';

const REACHABLE: StoreHealth = { reachable: true, error: null };

/**
 * The snapshot behind entitlements.health(): read from what the engine holds (the breaker, the
 * store's own view, the outbox), never a call to Stigg or a round trip to the store. A store that
 * knows its whole outbox (memory) gives it; otherwise the outbox is this process's share of it.
 * `stranded`: commits an asynchronous store refused, held here until it takes them.
 */
export function healthOf(runtime: Runtime, buffer: UsageBuffer, stranded: number, closed: boolean): Health {
  const { store } = runtime;
  let own: StoreHealth;
  try {
    own = store.health?.() ?? REACHABLE;
  } catch (error) {
    own = { reachable: false, error: error instanceof Error ? error.message : String(error) };
  }
  const now = runtime.now();
  let depth: number;
  let oldestMs: number | undefined;
  let scope: Health['outbox']['scope'];
  if (own.outbox !== undefined) {
    depth = own.outbox.depth + stranded;
    oldestMs = own.outbox.oldestCreatedAt === null ? undefined : Date.parse(own.outbox.oldestCreatedAt);
    scope = 'store';
  } else {
    const local = buffer.local();
    depth = local.depth + stranded;
    oldestMs = local.oldestMs;
    scope = 'process';
  }
  const breaker = runtime.breaker.state;
  const parked = buffer.isParked;
  return {
    ok: !closed && breaker === 'closed' && own.reachable && !parked,
    closed,
    breaker,
    store: { name: store.name, reachable: own.reachable, error: own.reachable ? null : (own.error ?? 'unreachable') },
    outbox: {
      depth,
      oldestAgeMs: depth === 0 || oldestMs === undefined || Number.isNaN(oldestMs) ? null : Math.max(0, now - oldestMs),
      scope,
      parked,
    },
  };
}
