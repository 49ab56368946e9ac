import { asError, isThenable } from './maybe-promise';
import { unref } from './timers';
import type { PendingUsage, Store } from './types';

/** Reports held here at most; past it a report is dropped loudly (a store down for that long). */
const MAX_STRANDED = 100_000;
const RETRY_MS = 1_000;

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

  constructor(
    private readonly store: Store,
    private readonly queued: () => void,
    private readonly storeError: (error: Error) => void,
    private readonly dropped: (report: PendingUsage, error: Error) => void,
  ) {}

  get size(): number {
    return this.held.length;
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
