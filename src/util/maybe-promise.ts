/** True when a MaybePromise holds a promise (any thenable); the synchronous hot path never awaits otherwise. */
export function isThenable<T>(value: T | Promise<T>): value is Promise<T>;
export function isThenable(value: unknown): value is PromiseLike<unknown>;
export function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** An Error for anything thrown, for events and logs that expect one. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function noop(): void {}
