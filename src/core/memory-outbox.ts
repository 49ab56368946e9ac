import type { PendingUsage } from './types';
import { StiggGateError } from './stigg-gate-error';
import { isSignedUnitCount } from '../util/unit-count';

/** The memory store's outbox is at its bound even after compaction: the report was not queued. */
export class OutboxFullError extends StiggGateError {
  override readonly name = 'OutboxFullError';
  readonly errorCode: string = 'ERR_STIGG_GATE_OUTBOX_FULL';
  readonly transient = false;
  constructor(readonly maxPendingUsage: number) {
    super(
      `The memory store's usage outbox holds ${maxPendingUsage} reports (maxPendingUsage) and Stigg has not taken them: report refused`,
    );
  }
}

interface LeasedBatch {
  reports: PendingUsage[];
  readonly leasedUntil: number;
}

function sameKey(report: PendingUsage): string {
  return `${report.customerId}\u001f${report.resourceId ?? ''}\u001f${report.featureId}`;
}

function copy(report: PendingUsage): PendingUsage {
  return {
    id: report.id,
    idempotencyKey: report.idempotencyKey,
    customerId: report.customerId,
    featureId: report.featureId,
    resourceId: report.resourceId,
    value: report.value,
    updateBehavior: report.updateBehavior,
    createdAt: report.createdAt,
    attempts: report.attempts,
  };
}

/** The usual ack: exactly the batch that was claimed (same id strings, so comparisons are cheap). */
function sameIds(reports: PendingUsage[], ids: string[]): boolean {
  if (reports.length !== ids.length) return false;
  for (let i = 0; i < ids.length; i += 1) if (reports[i]?.id !== ids[i]) return false;
  return true;
}

/**
 * The memory store's usage outbox: reports waiting for delivery, oldest first, and the batches
 * claimed for delivery until they are acked or their lease runs out (then they go back to the front).
 * Invariant: every report is in exactly one place, the queue (from `head` on) or one leased batch, and
 * together they never exceed `maxPendingUsage` (compaction first, then OutboxFullError); reports that
 * were handed out before (`sentAhead`, always the first of the queue) are never merged.
 */
export class MemoryOutbox {
  /** Unclaimed reports, oldest first, from `head` on (an array: a Map keyed by UUIDs costs ~0.5 µs a report). */
  private queue: PendingUsage[] = [];
  private head = 0;
  /** Claimed batches; few at a time, since one flusher sends one batch after another. */
  private leased: LeasedBatch[] = [];
  /** Compacted, and no report queued since: compacting again would merge nothing (a full outbox refuses at once). */
  private compacted = false;
  /**
   * How many reports from `head` on were handed out for delivery before (their lease ran out): Stigg
   * may have them, so they are never merged. They are always the first ones of the queue.
   */
  private sentAhead = 0;

  constructor(private readonly maxPendingUsage: number) {}

  /** Reports in the outbox, claimed or not. */
  get count(): number {
    let count = this.queue.length - this.head;
    for (const batch of this.leased) count += batch.reports.length;
    return count;
  }

  /** createdAt of the oldest report, claimed or not (each batch and the queue are oldest first); null when empty. */
  get oldestCreatedAt(): string | null {
    let oldest = this.queue[this.head]?.createdAt ?? null;
    for (const batch of this.leased) {
      const first = batch.reports[0]?.createdAt;
      if (first !== undefined && (oldest === null || Date.parse(first) < Date.parse(oldest))) oldest = first;
    }
    return oldest;
  }

  /** An OutboxFullError when `unsettled` more reports would not fit even after compaction. */
  refusal(unsettled: number): Error | undefined {
    if (this.count + unsettled < this.maxPendingUsage) return undefined;
    if (!this.compacted) this.compact();
    return this.count + unsettled < this.maxPendingUsage ? undefined : new OutboxFullError(this.maxPendingUsage);
  }

  /** Queues `report`, leaving `held` places free; throws OutboxFullError when it does not fit after compaction. */
  enqueue(report: PendingUsage, held: number): void {
    const refused = this.refusal(held);
    if (refused !== undefined) throw refused;
    this.queue.push(report);
    this.compacted = false;
  }

  /** Everything in the outbox, claimed or not, removed (copies). */
  take(): PendingUsage[] {
    const reports: PendingUsage[] = [];
    for (const batch of this.leased) for (const report of batch.reports) reports.push(copy(report));
    for (let i = this.head; i < this.queue.length; i += 1) reports.push(copy(this.queue[i] as PendingUsage));
    this.leased = [];
    this.queue = [];
    this.head = 0;
    this.sentAhead = 0;
    return reports;
  }

  /** Leases up to `max` of the oldest reports until `now + leaseMs`, after re-queueing expired leases (copies). */
  claim(max: number, leaseMs: number, now: number): PendingUsage[] {
    if (this.leased.length > 0) this.requeueExpired(now);
    const available = this.queue.length - this.head;
    if (available <= 0 || max <= 0) return [];
    const end = this.head + Math.min(max, available);
    const reports = this.queue.slice(this.head, end);
    this.sentAhead = Math.max(0, this.sentAhead - reports.length);
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.leased.push({ reports, leasedUntil: now + leaseMs });
    return reports.map(copy);
  }

  /** Removes the reports `ids`, leased or (acked after their lease ran out) back in the queue. */
  ack(ids: string[]): void {
    if (ids.length === 0) return;
    const exact = this.leased.findIndex((batch) => sameIds(batch.reports, ids));
    if (exact !== -1) {
      this.leased.splice(exact, 1);
      return;
    }
    const acked = new Set(ids);
    let removed = 0;
    for (const batch of this.leased) {
      const kept = batch.reports.filter((report) => !acked.has(report.id));
      removed += batch.reports.length - kept.length;
      batch.reports = kept;
    }
    this.leased = this.leased.filter((batch) => batch.reports.length > 0);
    if (removed < acked.size) {
      // Acked after its lease ran out and it went back to the queue.
      const sentEnd = this.head + this.sentAhead;
      let sentKept = 0;
      const kept: PendingUsage[] = [];
      for (let i = this.head; i < this.queue.length; i += 1) {
        const report = this.queue[i] as PendingUsage;
        if (acked.has(report.id)) continue;
        kept.push(report);
        if (i < sentEnd) sentKept += 1;
      }
      this.queue = kept;
      this.head = 0;
      this.sentAhead = sentKept;
    }
  }

  /** DELTAs never sent for one (customer, resource, feature) add up into the first of them. */
  private compact(): void {
    const first = new Map<string, PendingUsage>();
    const kept: PendingUsage[] = [];
    const sentEnd = this.head + this.sentAhead;
    for (let i = this.head; i < this.queue.length; i += 1) {
      const report = this.queue[i] as PendingUsage;
      if (report.updateBehavior === 'SET' || i < sentEnd) {
        kept.push(report);
        if (report.updateBehavior === 'SET') first.delete(sameKey(report));
        continue;
      }
      const key = sameKey(report);
      const into = first.get(key);
      // A sum past the unit-count cap (../util/unit-count) is not counted exactly: kept apart.
      if (into === undefined || !isSignedUnitCount(into.value + report.value)) {
        first.set(key, report);
        kept.push(report);
      } else {
        into.value += report.value;
      }
    }
    this.queue = kept;
    this.head = 0;
    this.compacted = true;
  }

  /** Expired leases go back to the front of the queue, as sent ahead. */
  private requeueExpired(now: number): void {
    const expired: PendingUsage[] = [];
    this.leased = this.leased.filter((batch) => {
      if (batch.leasedUntil > now) return true;
      // A lease that ran out unacknowledged was a delivery attempt (as the Redis outbox counts it). A
      // copy: the queue holds the caller's own object until then.
      for (const report of batch.reports) expired.push({ ...copy(report), attempts: report.attempts + 1 });
      return false;
    });
    if (expired.length === 0) return;
    this.queue = expired.concat(this.queue.slice(this.head));
    this.head = 0;
    this.sentAhead += expired.length;
  }
}
