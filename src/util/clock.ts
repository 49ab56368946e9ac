import { unref } from './timers';

/**
 * Date.now() costs ~25 ns on most machines but a system call (~200+ ns) on some VMs. The hot path
 * reads the clock on every call, so the default clock caches the time for `resolutionMs`, which is far
 * below any TTL. Injected clocks (tests) are used as they are.
 */
export function coarseClock(resolutionMs = 1, read?: () => number): () => number {
  let cached: number | undefined;
  function forget(): void {
    cached = undefined;
  }
  return function coarseNow(): number {
    if (cached === undefined) {
      // Date.now looked up at each read, not captured: a clock installed later (fake timers) is the one read.
      cached = read === undefined ? Date.now() : read();
      unref(setTimeout(forget, resolutionMs));
    }
    return cached;
  };
}

/**
 * For durations (TTLs) only: milliseconds since the epoch as of the clock's creation, advanced by the
 * monotonic performance.now(), so a step of the wall clock (NTP, a system time set by hand, a VM
 * synchronising its clock) does not move it. A wall-clock step of a minute read through Date.now
 * expired every reservation at work in the memory store at once: the limit was granted again.
 */
export function steadyClock(resolutionMs = 1): () => number {
  const performance = (globalThis as { performance?: { now?: () => number } }).performance;
  const monotonic = performance?.now?.bind(performance);
  if (monotonic === undefined) return coarseClock(resolutionMs);
  const origin = Date.now() - monotonic();
  return coarseClock(resolutionMs, () => origin + monotonic());
}
