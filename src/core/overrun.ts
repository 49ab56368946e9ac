import { isThenable } from './maybe-promise';
import type { Runtime } from './runtime';
import type { Decision, MaybePromise } from './types';

/**
 * A lease settled more units than it reserved (Lease.settle): when they take the usage past the
 * limit, the app hears of it ('usage:overrun' and a warning). The usage is the store's once the
 * commit (`queued`) is in: other requests committed or released since this one was decided, so the
 * decision's own usage (its usage then, other requests' reservations included) can be short or
 * long of it. The decision's stands only for a decision not made from the entitlement (a fallback
 * counts against its own total) or when the store holds no entry for the key.
 */
export function overrun(runtime: Runtime, key: string, decision: Decision, actualUnits: number, queued: MaybePromise<void>): void {
  const { usageLimit, currentUsage } = decision;
  const after = (then: () => MaybePromise<void>): void => {
    if (!isThenable(queued)) {
      const judged = then();
      if (isThenable(judged)) runtime.background(judged);
      return;
    }
    runtime.background(queued.then(then, then));
  };
  if (usageLimit === null || decision.hasUnlimitedUsage) {
    after(() => undefined);
    return;
  }
  const decided = (currentUsage ?? 0) + actualUnits;
  if (decision.source !== 'cache' && decision.source !== 'upstream') {
    signal(runtime, decision, actualUnits, decided, usageLimit);
    after(() => undefined);
    return;
  }
  after(() => {
    const cached = runtime.readCache(key);
    if (!isThenable(cached)) return signal(runtime, decision, actualUnits, cached?.currentUsage ?? decided, usageLimit);
    return cached.then((value) => signal(runtime, decision, actualUnits, value?.currentUsage ?? decided, usageLimit));
  });
}

function signal(runtime: Runtime, decision: Decision, actualUnits: number, usage: number, usageLimit: number): void {
  if (usage <= usageLimit) return;
  runtime.config.logger.warn(
    { featureId: decision.featureId, requestedUsage: decision.requestedUsage, actualUnits, usage, usageLimit },
    'stigg-gate: a request settled more units than it reserved and took the usage past its limit; the units were reported and later requests are decided against them',
  );
  runtime.emit('usage:overrun', { decision, actualUnits, usage, usageLimit });
}
