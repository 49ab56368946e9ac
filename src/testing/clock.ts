import { describeValue } from '../util/describe-value';

/** The kit's clock: it stands still until a test moves it, so cache ages and usage periods are the test's to choose. */
export interface TestClock {
  /** Milliseconds since the epoch, as Date.now() would say (a function to pass around, like Date.now). */
  readonly now: () => number;
  /**
   * Moves the clock forward by `ms` at once (a period end passed on the way starts the next period);
   * the promise settles when the usage queued meanwhile reached "Stigg", as it would have in production.
   */
  advance(ms: number): Promise<void>;
  /** Sets the clock to `time` (a Date, an ISO string or milliseconds since the epoch); the promise as advance()'s. */
  set(time: Date | string | number): Promise<void>;
}

/** Milliseconds since the epoch of `time`; TypeError naming `name` when it is no time. */
export function timeOf(name: string, time: unknown): number {
  const ms = time instanceof Date ? time.getTime() : typeof time === 'string' ? Date.parse(time) : time;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new TypeError(
      `${describeValue(time)} is not a valid value for ${name}. Please pass a Date, an ISO 8601 string or milliseconds since the epoch.`,
    );
  }
  return ms;
}

/** The bare clock; the kit's delivers queued usage when it moves. */
export function createTestClock(start: number): {
  readonly now: () => number;
  advance(ms: number): void;
  set(time: Date | string | number): void;
} {
  let time = start;
  return {
    now: function testNow(): number {
      return time;
    },
    advance(ms: number): void {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw new TypeError(
          `${describeValue(ms)} is not a valid value for clock.advance(). Please choose a finite number of milliseconds >= 0.`,
        );
      }
      time += ms;
    },
    set(next: Date | string | number): void {
      time = timeOf('clock.set()', next);
    },
  };
}
