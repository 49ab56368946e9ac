/**
 * Timers that work beyond Node: Workers and Deno return plain numbers from setTimeout (no unref),
 * and not every runtime has setImmediate.
 */
type Handle = ReturnType<typeof setTimeout>;

export function unref(timer: Handle): Handle {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

export function ref(timer: Handle): void {
  (timer as { ref?: () => void }).ref?.();
}

/**
 * Cloudflare Workers (workerd): a timer runs inside the request that set it, and what it starts is
 * bound to that request. Work started there and still pending when the request ends is dropped: its
 * promises never settle, and whatever waits on them waits forever.
 */
export const requestScopedTimers: boolean =
  (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent === 'Cloudflare-Workers';

export const soon: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/**
 * `promise`, or `fallback` once `ms` passed, whichever comes first; the timer is cleared either way.
 * `keepAlive`: the timer holds the process open (a deadline that must fire, e.g. to hand usage over).
 */
export function raceTimer<T, F>(promise: Promise<T>, ms: number, fallback: F, keepAlive = false): Promise<T | F> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    if (!keepAlive) unref(timer);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
