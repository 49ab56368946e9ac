/**
 * The newest event time seen per customer, so a stale or replayed event changes nothing. Bounded:
 * past `max` customers the oldest entry goes (an event that old is then simply applied: invalidation
 * is always safe, it only costs a fetch).
 */
export class EventOrder {
  private readonly latest = new Map<string, { at: number; eventId: string | undefined }>();

  constructor(private readonly max: number) {}

  /** True when the event is newer than every one seen for the customer (and records it). */
  accept(customerId: string, at: number, eventId: string | undefined): boolean {
    const seen = this.latest.get(customerId);
    if (seen !== undefined && (at < seen.at || (at === seen.at && (eventId === undefined || eventId === seen.eventId)))) return false;
    this.latest.delete(customerId);
    if (this.latest.size >= this.max) {
      const oldest = this.latest.keys().next();
      if (oldest.done !== true) this.latest.delete(oldest.value);
    }
    this.latest.set(customerId, { at, eventId });
    return true;
  }

  /** The event could not be applied: a retry of it must not count as repeated. */
  forget(customerId: string): void {
    this.latest.delete(customerId);
  }
}
