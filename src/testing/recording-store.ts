import { MemoryStore } from '../core';
import type { PendingUsage } from '../core';

/** A usage report the gate queued for Stigg: a committed lease, a settle() past its reservation, or report(). */
export interface ReportedUsage {
  readonly customerId: string;
  readonly featureId: string;
  readonly resourceId: string | undefined;
  readonly value: number;
  readonly updateBehavior: 'DELTA' | 'SET';
}

/**
 * The engine's own memory store, which also writes down every report the moment the engine queues
 * it (committed work), so a test can assert it right after the response, before any delivery.
 */
export class RecordingStore extends MemoryStore {
  readonly reports: ReportedUsage[] = [];

  override enqueueUsage(key: string, report: PendingUsage, held?: number): void {
    this.reports.push(
      Object.freeze({
        customerId: report.customerId,
        featureId: report.featureId,
        resourceId: report.resourceId ?? undefined,
        value: report.value,
        updateBehavior: report.updateBehavior ?? 'DELTA',
      }),
    );
    super.enqueueUsage(key, report, held);
  }
}
