import type { Logger, PendingUsage } from '../core';
import type { RunScript } from './outbox-calls';
import { script } from './scripts';

/** Reports remembered at most; past it the oldest is forgotten (a data loss then loses it). */
export const HANDED_OVER_MAX = 100_000;
/** How often the reports remembered are looked for in the outbox (and those to put back are put back). */
const SWEEP_MS = 1000;
/** Ids looked for per round trip. */
const SWEEP_BATCH = 2000;
/** Reports queued again at once after a loss. */
const REQUEUE_BATCH = 100;

/**
 * KEYS: outbox reports (HASH id → JSON), the data-loss marker. ARGV: the marker's value this process
 * knows, then ids. -1 when the marker is not that value (Redis may have lost its data: nothing can be
 * concluded from an absent report); else, per id, 1 while it is still in the outbox, 0 once it left it
 * (acknowledged: Stigg took it).
 */
export const STILL_QUEUED = script(
  'stillQueued',
  `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local found = {}
for i = 2, #ARGV do found[i - 1] = redis.call('HEXISTS', KEYS[1], ARGV[i]) end
return found
`,
);

interface Handed {
  readonly key: string;
  readonly report: PendingUsage;
  /** Redis lost it: queue it again. */
  again: boolean;
}

/**
 * The reports this process handed to Redis's outbox, remembered until they left it (Stigg took them),
 * so that a Redis that loses its data (restarted without persistence, flushed, an empty replica) does
 * not lose them: once the loss is found they are queued again, with their ids and idempotency keys
 * (one Stigg already took is not counted twice). Memory only: ~0.5 kB a report while Stigg has not
 * taken it, bounded by HANDED_OVER_MAX.
 */
export class HandedOver {
  private readonly handed = new Map<string, Handed>();
  private timer: NodeJS.Timeout | undefined;
  /** Bumped at each loss: a sweep sent before it concludes nothing. */
  private losses = 0;
  private sweeping = false;
  private warned = false;

  constructor(
    private readonly run: RunScript,
    private readonly keys: { reports: string; marker: string },
    /** The marker's value this process last read (undefined before the first check). */
    private readonly epoch: () => string | undefined,
    private readonly enqueue: (key: string, report: PendingUsage) => Promise<void>,
    private readonly logger: Logger,
    /**
     * The marker is not the value this process knows: Redis lost its data under a live connection
     * (FLUSHALL, an eviction), which no reconnect or NOSCRIPT tells of. The store checks its marker.
     */
    private readonly markerChanged: () => void = () => undefined,
  ) {}

  get size(): number {
    return this.handed.size;
  }

  /** Redis took `report` into its outbox. */
  taken(key: string, report: PendingUsage): void {
    const known = this.handed.get(report.id);
    if (known !== undefined) {
      known.again = false;
      return;
    }
    if (this.handed.size >= HANDED_OVER_MAX) {
      this.handed.delete(this.handed.keys().next().value as string);
      if (!this.warned) {
        this.warned = true;
        this.logger.warn(
          { max: HANDED_OVER_MAX },
          'RedisStore: more usage reports wait in the outbox than this process remembers; if Redis loses its data, the oldest are lost',
        );
      }
    }
    this.handed.set(report.id, { key, report, again: false });
    this.schedule();
  }

  /** Acknowledged by this process: Stigg took them. */
  delivered(ids: readonly string[]): void {
    for (const id of ids) this.handed.delete(id);
  }

  /** Redis lost its data: every report remembered is queued again (now, and at each sweep until Redis takes it). */
  lost(): void {
    this.losses += 1;
    for (const entry of this.handed.values()) entry.again = true;
    void this.sweep();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.handed.clear();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.handed.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sweep().finally(() => this.schedule());
    }, SWEEP_MS);
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const again = [...this.handed.values()].filter((entry) => entry.again);
      for (let from = 0; from < again.length; from += REQUEUE_BATCH) {
        // Taken again (see taken()) or still refused: the next sweep tries once more.
        const batch = again.slice(from, from + REQUEUE_BATCH);
        await Promise.all(batch.map((entry) => this.enqueue(entry.key, entry.report).catch(() => undefined)));
      }
      // Every report remembered is looked for, SWEEP_BATCH per round trip (a snapshot: those taken meanwhile wait for the next sweep).
      const ids = [...this.handed].filter(([, entry]) => !entry.again).map(([id]) => id);
      for (let from = 0; from < ids.length; from += SWEEP_BATCH) {
        const epoch = this.epoch();
        if (epoch === undefined) return;
        const losses = this.losses;
        const batch = ids.slice(from, from + SWEEP_BATCH);
        const found = await this.run('stillQueued', STILL_QUEUED, [this.keys.reports, this.keys.marker], [epoch, ...batch]).catch(
          () => undefined,
        );
        if (losses !== this.losses) return;
        // Nothing else may ever look (a process that reserves nothing more): without the check the
        // reports it remembers were never put back.
        if (found === -1) this.markerChanged();
        if (!Array.isArray(found)) return;
        batch.forEach((id, i) => {
          if (found[i] === 0) this.handed.delete(id);
        });
      }
    } finally {
      this.sweeping = false;
    }
  }
}
