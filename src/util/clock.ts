import { unref } from './timers';

/**
 * Date.now() costs ~25 ns on most machines but a system call (~200+ ns) on some VMs. The hot path
 * reads the clock on every call, so the default clock caches the time for `resolutionMs`, which is far
 * below any TTL. Injected clocks (tests) are used as they are.
 */
export function coarseClock(resolutionMs = 1): () => number {
  let cached: number | undefined;
  function forget(): void {
    cached = undefined;
  }
  return function coarseNow(): number {
    if (cached === undefined) {
      cached = Date.now();
      unref(setTimeout(forget, resolutionMs));
    }
    return cached;
  };
}
