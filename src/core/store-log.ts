import { LogThrottle } from '../util/log-throttle';
import type { Logger } from './types';

/**
 * Store failures through the injected logger, rate-limited per kind (the error's name: a Redis
 * outage is one kind however many operations it fails) as upstream failures are: the first at
 * `error`, then at most one line a minute per kind at `warn`, saying how many were not logged.
 * Every failure still reaches 'store:error'.
 */
export class StoreLog {
  private readonly throttle: LogThrottle<string>;

  constructor(
    private readonly logger: Logger,
    private readonly storeName: string,
    now: () => number,
  ) {
    this.throttle = new LogThrottle(now);
  }

  failed(error: Error): void {
    const kind = error.name;
    const admitted = this.throttle.admit(kind);
    if (admitted === undefined) return;
    const operation = (error as { operation?: unknown }).operation;
    const meta = { error: error.message, kind, ...(typeof operation === 'string' ? { operation } : {}) };
    if (admitted.first) this.logger.error(meta, `Entitlements store "${this.storeName}" failed`);
    else
      this.logger.warn(
        { ...meta, suppressed: admitted.suppressed },
        `Entitlements store "${this.storeName}" failed (${admitted.suppressed} more like it in the last minute were not logged)`,
      );
  }
}
