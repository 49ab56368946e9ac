import { rejectUnknownOptions } from '../util/unknown-options';
import { requireObject } from './validate';

// The caller's AbortSignal through a call and its retries (reportUsageBulk: close() ends the call
// in flight at its deadline).

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  // Not unref'd on purpose: a retry someone awaits (e.g. the final usage flush on shutdown) must
  // keep the process alive until it settles, like the socket of the request itself does. The
  // caller's signal cuts it short.
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', wake);
      resolve();
    }, ms);
    signal?.addEventListener('abort', wake, { once: true });
  });
}

/** Read through a call: TypeScript would keep `signal.aborted` narrowed across the await. */
export function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** What the caller's signal ended: its reason when it is an Error, else an AbortError. */
export function aborted(operation: string, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException(`Stigg ${operation} was aborted by the caller`, 'AbortError');
}

/** reportUsageBulk's second argument. */
export interface RequestOptions {
  /** Aborts the call (and its retries): it rejects with the signal's reason; the report may or may not have reached Stigg. */
  signal?: AbortSignal;
}

export function signalOf(method: string, options: RequestOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  requireObject(method, 'options', options);
  rejectUnknownOptions(options, ['signal'], `StiggClient.${method}()`);
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError(`StiggClient.${method}(): options.signal must be an AbortSignal.`);
  return signal;
}
