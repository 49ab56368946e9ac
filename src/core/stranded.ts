import { asError, isThenable } from '../util/maybe-promise';
import { unref } from '../util/timers';
import type { PendingUsage, Store } from './types';
import { StiggGateError } from './stigg-gate-error';

/** Reports held here at most; past it no metered request is granted (see refusal()). */
export const MAX_STRANDED = 100_000;
const RETRY_MS = 1_000;

/** The commits a shared store refused fill what this process holds: a metered grant would serve a unit it cannot keep. */
export class HeldCommitsFullError extends StiggGateError {
  override readonly name = 'HeldCommitsFullError';
  readonly errorCode: string = 'ERR_STIGG_GATE_HELD_COMMITS_FULL';
  readonly transient = false;
  constructor(readonly maxHeld: number) {
    super(
      `The store refused the commits of ${maxHeld} served requests (held in this process until it takes them) and takes none: a metered request is not granted until it does`,
    );
  }
}

interface Stranded {
  readonly key: string;
  readonly report: PendingUsage;
}

/**
 * Commits a shared store could not take (Redis down or slower than its command timeout): the
 * request was granted and served, so its units are held here and queued again (enqueueUsage, which
 * a report id already in the outbox leaves as it is) until the store takes them. close() hands what
 * is still here to the app with the rest of what was not delivered.
 */
export class StrandedReports {
  private readonly held: Stranded[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retrying: Promise<void> | undefined;
  /** Commits of served requests sent to the store and not answered yet. */
  private inFlight = 0;

  constructor(
    private readonly store: Store,
    private readonly queued: () => void,
    private readonly storeError: (error: Error) => void,
    private readonly dropped: (report: PendingUsage, error: Error) => void,
  ) {}

  get size(): number {
    return this.held.length;
  }

  /**
   * Why a metered grant must not be served now: with `unsettled` granted leases still to commit, the
   * bound would overflow and a served unit be dropped. Whatever the failure policy (the memory
   * store's full outbox answers alike).
   */
  refusal(unsettled: number): Error | undefined {
    return this.held.length + this.inFlight + unsettled < MAX_STRANDED ? undefined : new HeldCommitsFullError(MAX_STRANDED);
  }

  /** A served request's commit on its way to the store (a hung Redis answers it only at its timeout): it may come here. */
  sending<T>(queued: Promise<T>): Promise<T> {
    this.inFlight += 1;
    const done = (): void => {
      this.inFlight -= 1;
    };
    queued.then(done, done);
    return queued;
  }

  add(key: string, report: PendingUsage, error: Error): void {
    if (this.held.length >= MAX_STRANDED) {
      this.dropped(
        report,
        new Error(`the store refused this report (${error.message}) and ${MAX_STRANDED} others wait to be queued again`),
      );
      return;
    }
    this.held.push({ key, report });
    this.schedule();
  }

  /** Queues again what is held, in order, until the store refuses one (then later). */
  retry(): Promise<void> {
    this.retrying ??= this.requeue().finally(() => {
      this.retrying = undefined;
      if (this.held.length > 0) this.schedule();
    });
    return this.retrying;
  }

  /** What close() could not queue: out of here, for the app. */
  take(): PendingUsage[] {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return this.held.splice(0).map((stranded) => stranded.report);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = unref(
      setTimeout(() => {
        this.timer = undefined;
        this.retry().catch(this.storeError);
      }, RETRY_MS),
    );
  }

  private async requeue(): Promise<void> {
    while (this.held.length > 0) {
      const next = this.held[0] as Stranded;
      try {
        const queued = this.store.enqueueUsage(next.key, next.report);
        if (isThenable(queued)) await queued;
      } catch (error) {
        this.storeError(asError(error));
        return;
      }
      if (this.held[0] === next) this.held.shift();
      this.queued();
    }
  }
}
