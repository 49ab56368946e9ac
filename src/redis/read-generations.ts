import { NEAR_CACHE_MAX_ENTRIES } from './options';

/**
 * The customer's invalidation generation each reader read with its last usage mark of a key (see
 * SET_ENTITLEMENT): a write of data read since must find it unchanged. Per reader (one engine's
 * refreshes, or its deliveries: Store.usageMark's `reader`), as two readers of one key may each have a
 * read on its way and each write is checked against its own.
 */
export class ReadGenerations {
  private readonly byReader = new Map<string, string>();

  /** usageMark() read `generation` for `reader`'s read of `key`. */
  read(reader: string, key: string, generation: string): void {
    if (this.byReader.size >= NEAR_CACHE_MAX_ENTRIES) this.byReader.clear();
    this.byReader.set(`${reader}\0${key}`, generation);
  }

  /** The generation `reader`'s write of `key` must find, once: undefined when none was read (then unchecked). */
  take(reader: string, key: string): string | undefined {
    const id = `${reader}\0${key}`;
    const generation = this.byReader.get(id);
    this.byReader.delete(id);
    return generation;
  }
}
