import type { PendingUsage } from './types';

/** What a report refused for good carries: its error and the code Stigg gave. */
export interface Refusal {
  readonly report: PendingUsage;
  readonly error: Error;
  readonly code: string;
  readonly attempts: number;
}

export interface ParkedInfo {
  /** The code(s) Stigg refused the reports with, e.g. BAD_USER_INPUT. */
  readonly code: string;
  /** Reports refused in the delivery that parked the outbox. */
  readonly reports: number;
  readonly error: Error;
}

const MAX_PROBE_DELAY_MS = 30_000;
/**
 * After Stigg refused a report it then took (a flapping deployment, not a bad report), how long no
 * refusal is trusted enough to drop a report: what it refuses meanwhile stays in the outbox.
 */
export const DISTRUST_MS = 60_000;

/**
 * Tells a refusal of one report from a refusal of every report. Stigg refusing a report for good
 * (BAD_USER_INPUT, CustomerNotFound…) while it takes others is that report's fault: it is dropped.
 * Refusing every report it was shown, with nothing taken (an input type Stigg changed, a
 * misconfigured environment), is everyone's: nothing is dropped, the outbox is parked (the timer
 * probes it with growing delays; flush() and close() still try) and delivery resumes as soon as
 * Stigg takes a report again.
 */
export class Refusals {
  private parked: { since: number; probes: number; nextProbeAt: number } | undefined;
  /** Where a parked probe starts trying single reports, so that successive probes try different ones. */
  private offset = 0;
  /** Until when refusals are not taken at their word (Stigg refused what it took on another try). */
  private distrustUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly now: () => number,
    private readonly baseDelayMs: number,
    /** How many single reports a split tries before it sends the rest at once. */
    private readonly probes: number,
    private readonly onParked: (info: ParkedInfo) => void,
    private readonly onResumed: (parkedMs: number) => void,
  ) {}

  get isParked(): boolean {
    return this.parked !== undefined;
  }

  /** Whether the interval may drain now (a parked outbox waits for its next probe). */
  mayDrain(): boolean {
    return this.parked === undefined || this.now() >= this.parked.nextProbeAt;
  }

  /** Stigg took a report: a parked outbox resumes. */
  accepted(): void {
    if (this.parked === undefined) return;
    const parkedMs = this.now() - this.parked.since;
    this.parked = undefined;
    this.offset = 0;
    this.onResumed(parkedMs);
  }

  /** Every report shown (`shown`, `refused` tried one by one) was refused and none taken: park (alerting once), or wait longer for the next probe. */
  park(refused: readonly Refusal[], shown = refused.length): void {
    const now = this.now();
    if (this.parked !== undefined) {
      this.parked.probes += 1;
      this.parked.nextProbeAt = now + Math.min(MAX_PROBE_DELAY_MS, this.baseDelayMs * 2 ** Math.min(this.parked.probes, 20));
      return;
    }
    this.parked = { since: now, probes: 0, nextProbeAt: now + this.baseDelayMs };
    const codes = [...new Set(refused.map((refusal) => refusal.code))].join(', ');
    this.onParked({ code: codes, reports: shown, error: (refused[0] as Refusal).error });
  }

  /**
   * Stigg refused a report (or a batch) that it took when asked again with nothing changed: its
   * refusals say nothing about the reports for DISTRUST_MS, so none is dropped for one meanwhile.
   */
  contradicted(): void {
    this.distrustUntil = this.now() + DISTRUST_MS;
  }

  /** Whether a report refused twice, while Stigg took others, may be dropped as a bad one. */
  get trusted(): boolean {
    return this.now() >= this.distrustUntil;
  }

  /** `batch` in the order a split tries it: from a moving start while parked. */
  order(batch: PendingUsage[]): PendingUsage[] {
    if (this.parked === undefined || batch.length < 2) return batch;
    // Past the reports the last split tried first: bad ones at the head cannot hold the others back.
    this.offset += this.probes;
    const start = this.offset % batch.length;
    return start === 0 ? batch : [...batch.slice(start), ...batch.slice(0, start)];
  }
}
