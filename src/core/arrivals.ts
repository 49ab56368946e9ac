/** Entries kept at most: while Stigg is down for hours the reports keep coming, one entry a millisecond. */
const MAX_ENTRIES = 4_096;

/**
 * When the reports this process queued and has not claimed yet arrived, oldest first, as one
 * (millisecond, count) pair per distinct millisecond: a burst costs one entry, a report one addition.
 * Claims take from the front, as the outbox hands reports out oldest first. Bounded: past
 * MAX_ENTRIES new reports count as arrived with the newest entry (older than they are, so a
 * partial batch is sent sooner, never later).
 */
export class Arrivals {
  private times: number[] = [];
  private counts: number[] = [];
  private head = 0;

  add(now: number): void {
    const last = this.times.length - 1;
    if (last >= this.head && (this.times[last] === now || last - this.head + 1 >= MAX_ENTRIES))
      this.counts[last] = (this.counts[last] as number) + 1;
    else {
      this.times.push(now);
      this.counts.push(1);
    }
  }

  /** `count` reports were claimed: the oldest ones. */
  take(count: number): void {
    let left = count;
    while (left > 0 && this.head < this.times.length) {
      const here = this.counts[this.head] as number;
      if (here > left) {
        this.counts[this.head] = here - left;
        return;
      }
      left -= here;
      this.head += 1;
    }
    if (this.head === this.times.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.times.length) {
      this.times = this.times.slice(this.head);
      this.counts = this.counts.slice(this.head);
      this.head = 0;
    }
  }

  /** When the oldest unclaimed report arrived; undefined when there is none. */
  get oldest(): number | undefined {
    return this.head < this.times.length ? this.times[this.head] : undefined;
  }

  /** Entries held (for tests: bounded). */
  get entries(): number {
    return this.times.length - this.head;
  }

  clear(): void {
    this.times = [];
    this.counts = [];
    this.head = 0;
  }
}
