import { asError, isThenable } from './maybe-promise';
import type { Runtime } from './runtime';
import type { Decision, MaybePromise } from './types';

/*
 * A commit can take the usage past the limit in two ways, and the app hears of both ('usage:overrun'
 * and a warning), judged by the store's usage once the commit (`queued`) is in — other requests
 * committed or released since this one was decided, so the decision's own usage can be short or long:
 *  - 'settled': Lease.settle() reported more units than were reserved. The usage is the entry's.
 *  - 'lapsed': the lease was abandoned (its client left mid-work), no longer renewed, and its
 *    reservation may have lapsed and its room been granted to others: the usage is the entry's plus
 *    the units other requests still hold.
 */
export type OverrunCause = 'settled' | 'lapsed';

const MESSAGES: Record<OverrunCause, string> = {
  settled:
    'stigg-gate: a request settled more units than it reserved and took the usage past its limit; the units were reported and later requests are decided against them',
  lapsed:
    'stigg-gate: a request whose client left committed after its reservation lapsed (it was no longer renewed) and took the usage past its limit; the units were reported and later requests are decided against them',
};

/** Once `queued` (the commit of `units` for `key`) is in the store: the overrun, when the usage is past the limit. */
export function overrun(
  runtime: Runtime,
  key: string,
  decision: Decision,
  units: number,
  queued: MaybePromise<void>,
  cause: OverrunCause,
): void {
  const { usageLimit } = decision;
  const limited = usageLimit !== null && !decision.hasUnlimitedUsage && units > 0;
  const judged = (): MaybePromise<void> => {
    if (!limited) return undefined;
    // A decision not made from the entitlement (a fallback) counts against its own total: its usage stands.
    if (cause === 'settled' && decision.source !== 'cache' && decision.source !== 'upstream') {
      return signal(runtime, decision, units, (decision.currentUsage ?? 0) + units, usageLimit, cause);
    }
    return judge(runtime, key, decision, units, usageLimit, cause);
  };
  try {
    const done = isThenable(queued) ? queued.then(judged, judged) : judged();
    if (isThenable(done)) runtime.background(done.catch((error: unknown) => runtime.storeError(asError(error))));
  } catch (error) {
    runtime.storeError(asError(error));
  }
}

function judge(
  runtime: Runtime,
  key: string,
  decision: Decision,
  units: number,
  usageLimit: number,
  cause: OverrunCause,
): MaybePromise<void> {
  const entry = runtime.readCache(key);
  const held = cause === 'lapsed' ? (runtime.store.reservedUsage?.(key) ?? 0) : 0;
  // Evicted meanwhile: a settle judges by the decision's usage; a lapsed commit has nothing to judge by.
  const fallback = cause === 'settled' ? (decision.currentUsage ?? 0) + units : undefined;
  const usageOf = (value: { currentUsage: number } | undefined, reserved: number): number | undefined =>
    value === undefined ? fallback : value.currentUsage + reserved;
  if (!isThenable(entry) && !isThenable(held)) return signal(runtime, decision, units, usageOf(entry, held), usageLimit, cause);
  return Promise.all([entry, held]).then(([value, reserved]) =>
    signal(runtime, decision, units, usageOf(value, reserved), usageLimit, cause),
  );
}

function signal(
  runtime: Runtime,
  decision: Decision,
  units: number,
  usage: number | undefined,
  usageLimit: number,
  cause: OverrunCause,
): void {
  if (usage === undefined || usage <= usageLimit) return;
  runtime.config.logger.warn(
    { featureId: decision.featureId, requestedUsage: decision.requestedUsage, actualUnits: units, usage, usageLimit },
    MESSAGES[cause],
  );
  runtime.emit('usage:overrun', { decision, actualUnits: units, usage, usageLimit });
}
