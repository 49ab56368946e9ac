import { asError, isThenable } from './maybe-promise';
import type { Runtime } from './runtime';
import type { CachedEntitlement, Decision, MaybePromise } from './types';

/*
 * A lease whose client left mid-work (Lease.abandoned) is no longer renewed: its reservation lapses
 * after reservationTtlMs, and its room may be granted to others. A handler that did NOT stop with its
 * client then commits units nobody holds room for: they are reported (the work happened), and when
 * they take the usage past the limit the app hears of it, as for a settle() past the reservation
 * ('usage:overrun' and a warning). The usage is read from the store once the commit is in it: the
 * units used (this commit's included) plus the units other requests hold.
 */

/** After `committed` (the commit of an abandoned lease's `units`) is in the store: the overrun, when the usage is past the limit. */
export function overrunAfterLapse(runtime: Runtime, key: string, decision: Decision, units: number, committed: MaybePromise<void>): void {
  const { usageLimit } = decision;
  if (usageLimit === null || decision.hasUnlimitedUsage || decision.hasSoftLimit || units === 0) return;
  const check = (): MaybePromise<void> => {
    const entry = runtime.store.getEntitlement(key);
    const reserved = runtime.store.reservedUsage?.(key) ?? 0;
    if (!isThenable(entry) && !isThenable(reserved)) {
      judge(runtime, decision, units, entry, reserved, usageLimit);
      return undefined;
    }
    return Promise.all([entry, reserved]).then(([value, held]) => judge(runtime, decision, units, value, held, usageLimit));
  };
  try {
    const done = isThenable(committed) ? committed.then(check) : check();
    if (isThenable(done)) runtime.background(done.catch((error: unknown) => runtime.storeError(asError(error))));
  } catch (error) {
    runtime.storeError(asError(error));
  }
}

function judge(
  runtime: Runtime,
  decision: Decision,
  actualUnits: number,
  entry: CachedEntitlement | undefined,
  reserved: number,
  usageLimit: number,
): void {
  // Evicted meanwhile: nothing to judge by (the next refresh counts the units all the same).
  if (entry === undefined) return;
  const usage = entry.currentUsage + reserved;
  if (usage <= usageLimit) return;
  runtime.config.logger.warn(
    { featureId: decision.featureId, requestedUsage: decision.requestedUsage, actualUnits, usage, usageLimit },
    'stigg-gate: a request whose client left committed after its reservation lapsed (it was no longer renewed) and took the usage past its limit; the units were reported and later requests are decided against them',
  );
  runtime.emit('usage:overrun', { decision, actualUnits, usage, usageLimit });
}
