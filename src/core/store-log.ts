import type { Logger } from './types';

const REPEAT_INTERVAL_MS = 60_000;

/**
 * Store failures through the injected logger, rate-limited per kind (the error's name: a Redis
 * outage is one kind however many operations it fails) as upstream failures are: the first at
 * `error`, then at most one line a minute per kind at `warn`, saying how many were not logged.
 * Every failure still reaches 'store:error'.
 */
export class StoreLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly storeName: string,
    private readonly now: () => number,
  ) {}

  failed(error: Error): void {
    const kind = error.name;
    const now = this.now();
    const seen = this.last.get(kind);
    if (seen !== undefined && now - seen.at < REPEAT_INTERVAL_MS) {
      seen.suppressed += 1;
      return;
    }
    this.last.set(kind, { at: now, suppressed: 0 });
    const operation = (error as { operation?: unknown }).operation;
    const meta = { error: error.message, kind, ...(typeof operation === 'string' ? { operation } : {}) };
    if (seen === undefined) this.logger.error(meta, `Entitlements store "${this.storeName}" failed`);
    else
      this.logger.warn(
        { ...meta, suppressed: seen.suppressed },
        `Entitlements store "${this.storeName}" failed (${seen.suppressed} more like it in the last minute were not logged)`,
      );
  }
}
