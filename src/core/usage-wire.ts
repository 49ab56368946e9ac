import type { PendingUsage } from './types';

/** What one reportUsageBulk call sends, and how it ended. */

export interface Failed {
  readonly kind: 'failed';
  readonly error: Error;
  readonly caught: unknown;
  readonly attempts: number;
}
/** How one call for a batch ended. */
export type Sent =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'refused'; readonly error: Error; readonly code: string; readonly attempts: number }
  | Failed;
export const DELIVERED: Sent = { kind: 'delivered' };
export const STOPPED: Sent = { kind: 'stopped' };

/** A report as reportUsageBulk takes it. */
export function toWire(report: PendingUsage) {
  return {
    customerId: report.customerId,
    featureId: report.featureId,
    value: report.value,
    resourceId: report.resourceId ?? null,
    updateBehavior: report.updateBehavior ?? 'DELTA',
    idempotencyKey: report.idempotencyKey,
    createdAt: report.createdAt,
  };
}

/** Whether a report of `batch` was created at `oldest` or before (a report past maxAgeMs). */
export function isAged(batch: readonly PendingUsage[], oldest: number): boolean {
  return batch.some((report) => {
    const created = Date.parse(report.createdAt);
    return Number.isFinite(created) && created <= oldest;
  });
}
