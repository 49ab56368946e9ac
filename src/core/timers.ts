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

export const soon: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);
