import type { Logger } from './types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listeners of different events share one list
type Listener = (...args: any[]) => void;

/**
 * The few EventEmitter features the core uses, typed and without node:events (edge runtimes load
 * the root entry). A listener that throws is logged, never rethrown into the request that emitted.
 */
export class TypedEmitter<Events extends { [E in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, Listener[]>();

  constructor(private readonly logger: Logger) {}

  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): void {
    const list = this.listeners.get(event);
    // A new array each time: an emit already iterating keeps its own snapshot.
    this.listeners.set(event, list === undefined ? [listener as Listener] : [...list, listener as Listener]);
  }

  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    const index = list.lastIndexOf(listener as Listener);
    if (index === -1) return;
    const rest = list.filter((_unused, at) => at !== index);
    if (rest.length === 0) this.listeners.delete(event);
    else this.listeners.set(event, rest);
  }

  has(event: keyof Events): boolean {
    return this.listeners.has(event);
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    for (const listener of list) {
      try {
        const returned: unknown = listener(...args);
        // An async listener's rejection would be an unhandled rejection (a crash): logged as a throw.
        if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function') {
          (returned as PromiseLike<unknown>).then(undefined, (error: unknown) => this.listenerFailed(event, error));
        }
      } catch (error) {
        this.listenerFailed(event, error);
      }
    }
  }

  private listenerFailed(event: keyof Events, error: unknown): void {
    this.logger.error(
      { error: error instanceof Error ? error.message : String(error) },
      `An entitlements "${String(event)}" listener threw; listeners must not throw`,
    );
  }
}
