import { processWarning } from '../util/process-warning';
import { soon } from '../util/timers';
import type { PendingUsage } from './types';

/** "2 usage reports (5 units)". */
function counts(reports: readonly PendingUsage[]): string {
  const units = reports.reduce((sum, report) => sum + report.value, 0);
  return `${reports.length} usage report${reports.length === 1 ? '' : 's'} (${units} unit${units === 1 ? '' : 's'})`;
}

/**
 * Usage that will not reach Stigg is never lost in silence: when neither a logger nor a listener of
 * its event is there to hear it, a process warning gives the counts. Drops of one moment (a batch
 * refused) make one warning.
 */
export class LossWarnings {
  private dropped: PendingUsage[] = [];

  /** `heard(event)`: a logger or a listener of `event` takes it. */
  constructor(private readonly heard: (event: 'usage:dropped' | 'usage:undelivered' | 'usage:parked') => boolean) {}

  /** Stigg refuses every report: nothing is lost yet, but nothing is delivered either until someone acts. */
  parked(info: { code: string; reports: number }): void {
    if (this.heard('usage:parked')) return;
    processWarning(
      `stigg-gate: Stigg refused every usage report it was shown (${info.code}, ${info.reports} reports) and took none: ` +
        "delivery is parked, nothing is dropped, and it resumes once Stigg takes reports again. Listen to 'usage:parked', or pass a logger.",
      'STIGG_GATE_USAGE_REFUSED',
    );
  }

  undelivered(reports: readonly PendingUsage[]): void {
    if (reports.length === 0 || this.heard('usage:undelivered')) return;
    processWarning(
      `stigg-gate: ${counts(reports)} not delivered to Stigg, lost when this process exits: ` +
        "listen to 'usage:undelivered' (or read close()'s `undelivered`) to keep them (send them again with the same idempotency keys), or pass a logger.",
      'STIGG_GATE_USAGE_UNDELIVERED',
    );
  }

  drop(report: PendingUsage): void {
    if (this.heard('usage:dropped')) return;
    this.dropped.push(report);
    if (this.dropped.length > 1) return;
    soon(() => {
      const reports = this.dropped;
      this.dropped = [];
      processWarning(
        `stigg-gate: ${counts(reports)} dropped: Stigg refused them for good. ` +
          "Listen to 'usage:dropped' for the full reports, or pass a logger.",
        'STIGG_GATE_USAGE_DROPPED',
      );
    });
  }
}
