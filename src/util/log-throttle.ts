const REPEAT_INTERVAL_MS = 60_000;

/** What admit() decided for one failure: log it as the kind's first, as a repeat, or not at all (undefined). */
export interface Admitted {
  readonly first: boolean;
  /** Failures of the kind not logged since its last line. */
  readonly suppressed: number;
}

/**
 * One log line a minute per kind of failure (an outage is one kind however many calls it fails):
 * the first at once, then one a minute saying how many were not logged. Kinds are few (categories,
 * error names), so the map stays small.
 */
export class LogThrottle<K> {
  private readonly last = new Map<K, { at: number; suppressed: number }>();

  constructor(private readonly now: () => number) {}

  admit(kind: K): Admitted | undefined {
    const now = this.now();
    const seen = this.last.get(kind);
    if (seen !== undefined && now - seen.at < REPEAT_INTERVAL_MS) {
      seen.suppressed += 1;
      return undefined;
    }
    this.last.set(kind, { at: now, suppressed: 0 });
    return { first: seen === undefined, suppressed: seen?.suppressed ?? 0 };
  }
}
