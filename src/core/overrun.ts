import { asError, isThenable } from '../util/maybe-promise';
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
 * A settle within the limit while others hold units of the key is watched (Overruns, below): the
 * overrun can land with their commits.
 */
export type OverrunCause = 'settled' | 'lapsed';

const MESSAGES: Record<OverrunCause, string> = {
  settled:
    'stigg-gate: a request settled more units than it reserved and took the usage past its limit; the units were reported and later requests are decided against them',
  lapsed:
    'stigg-gate: a request whose client left committed after its reservation lapsed (it was no longer renewed) and took the usage past its limit; the units were reported and later requests are decided against them',
};

/** Keys watched at most at once: past it the oldest watch is dropped (its overrun may go unsignalled). */
const MAX_WATCHED = 1_000;
/** How often a watched key is judged again, for commits of other processes and for releases. */
const WATCH_EVERY_MS = 2_000;

interface Watch {
  readonly decision: Decision;
  readonly units: number;
  readonly usageLimit: number;
  readonly until: number;
}

/**
 * Judges commits against the limit (see the comment above). A settle that lands within the limit while
 * other requests still hold units of the key may be passed later, when those commit what they reserved
 * (limit 4: A and B reserve 2, A settles 3, B commits 2): the key is watched, and judged again on each
 * commit of the key in this process and on a timer (commits of other processes, releases), until the
 * units held can no longer take it past the limit, the overrun is signalled, or the longest a
 * reservation can be held has passed.
 */
export class Overruns {
  private readonly watched = new Map<string, Watch>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** close(): a commit after it is judged once, never watched (no timer polling a store being closed). */
  private stopped = false;

  constructor(private readonly runtime: Runtime) {}

  /** Once `queued` (the commit of `units` for `key`) is in the store: the overrun, when the usage is past the limit. */
  judge(key: string, decision: Decision, units: number, queued: MaybePromise<void>, cause: OverrunCause): void {
    const { usageLimit } = decision;
    const limited = usageLimit !== null && !decision.hasUnlimitedUsage && units > 0;
    const judged = (): MaybePromise<void> => {
      if (!limited) return undefined;
      // A decision not made from the entitlement (a fallback) counts against its own total: its usage stands.
      if (cause === 'settled' && decision.source !== 'cache' && decision.source !== 'upstream') {
        return this.signal(key, decision, units, (decision.currentUsage ?? 0) + units, usageLimit, cause);
      }
      return this.usage(key, decision, units, cause, (usage, held) => {
        if (cause === 'settled' && usage !== undefined && usage <= usageLimit && usage + held > usageLimit) {
          this.watch(key, { decision, units, usageLimit, until: this.runtime.now() + this.longestHold() });
          return;
        }
        this.signal(key, decision, units, cause === 'lapsed' && usage !== undefined ? usage + held : usage, usageLimit, cause);
      });
    };
    this.after(queued, judged);
  }

  /** Whether a commit of `key` must be judged again (a cheap test: it runs for every commit). */
  watching(key: string): boolean {
    return this.watched.size !== 0 && this.watched.has(key);
  }

  /** A commit or a release of a watched key: judged again once it is in. */
  committed(key: string, queued: MaybePromise<void>): void {
    this.after(queued, () => this.again(key));
  }

  /** Stops the timer (close()). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  private after(queued: MaybePromise<void>, judged: () => MaybePromise<void>): void {
    try {
      const done = isThenable(queued) ? queued.then(judged, judged) : judged();
      if (isThenable(done)) this.runtime.background(done.catch((error: unknown) => this.runtime.storeError(asError(error))));
    } catch (error) {
      this.runtime.storeError(asError(error));
    }
  }

  private again(key: string): MaybePromise<void> {
    const watch = this.watched.get(key);
    if (watch === undefined) return undefined;
    return this.usage(key, watch.decision, watch.units, 'settled', (usage, held) => {
      if (this.watched.get(key) !== watch) return;
      if (usage === undefined || usage + held <= watch.usageLimit || this.runtime.now() >= watch.until) this.unwatch(key);
      else if (usage > watch.usageLimit) this.signal(key, watch.decision, watch.units, usage, watch.usageLimit, 'settled');
    });
  }

  private watch(key: string, watch: Watch): void {
    if (this.stopped) return;
    this.watched.delete(key);
    if (this.watched.size >= MAX_WATCHED) this.unwatch(this.watched.keys().next().value as string);
    this.watched.set(key, watch);
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      for (const watchedKey of [...this.watched.keys()]) this.after(undefined, () => this.again(watchedKey));
    }, WATCH_EVERY_MS);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private unwatch(key: string): void {
    this.watched.delete(key);
    if (this.watched.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** The longest another request's reservation can still be held. */
  private longestHold(): number {
    return this.runtime.config.reservationMaxMs + this.runtime.config.reservationTtlMs;
  }

  /**
   * The key's usage once the commit is in, and the units other requests hold: `then(usage, held)`.
   * Evicted meanwhile: a settle judges by the decision's usage; a lapsed commit has nothing to judge by.
   */
  private usage(
    key: string,
    decision: Decision,
    units: number,
    cause: OverrunCause,
    then: (usage: number | undefined, held: number) => void,
  ): MaybePromise<void> {
    const entry = this.runtime.readCache(key);
    const held = this.runtime.store.reservedUsage?.(key) ?? 0;
    const fallback = cause === 'settled' ? (decision.currentUsage ?? 0) + units : undefined;
    const usageOf = (value: { currentUsage: number } | undefined): number | undefined =>
      value === undefined ? fallback : value.currentUsage;
    if (!isThenable(entry) && !isThenable(held)) return then(usageOf(entry), held);
    return Promise.all([entry, held]).then(([value, reserved]) => then(usageOf(value), reserved));
  }

  private signal(key: string, decision: Decision, units: number, usage: number | undefined, usageLimit: number, cause: OverrunCause): void {
    if (usage === undefined || usage <= usageLimit) return;
    this.unwatch(key);
    this.runtime.config.logger.warn(
      { featureId: decision.featureId, requestedUsage: decision.requestedUsage, actualUnits: units, usage, usageLimit },
      MESSAGES[cause],
    );
    this.runtime.emit('usage:overrun', { decision, actualUnits: units, usage, usageLimit });
  }
}
