import { fallbackDecision } from './decide';
import { EntitlementUnavailableError } from './errors';
import { asError } from './maybe-promise';
import type { Runtime } from './runtime';
import type { CheckInput, Decision } from './types';

const FAIL_OPEN_WARNING_INTERVAL_MS = 60_000;

/** No decision from Stigg or the cache: the feature's fallback, else fail open or closed. */
export class FailurePolicy {
  private readonly failOpenWarnedAt = new Map<string, number>();

  constructor(private readonly runtime: Runtime) {}

  decide(input: CheckInput, requested: number, error: unknown): Decision {
    const { config } = this.runtime;
    const rule = config.fallback.get(input.featureId);
    if (rule === undefined && config.failMode === 'closed') {
      throw new EntitlementUnavailableError(input.featureId, config.retryAfterSeconds, { cause: error });
    }
    const decision = fallbackDecision(input, requested, rule);
    if (rule === undefined) this.warnFailOpen(input.featureId, error);
    this.runtime.emit('fallback:used', decision);
    return decision;
  }

  private warnFailOpen(featureId: string, error: unknown): void {
    const now = this.runtime.now();
    const last = this.failOpenWarnedAt.get(featureId);
    if (last !== undefined && now - last < FAIL_OPEN_WARNING_INTERVAL_MS) return;
    this.failOpenWarnedAt.set(featureId, now);
    this.runtime.config.logger.warn({
      featureId,
      error: asError(error).message,
    }, 'Stigg unreachable and nothing cached: granting access (failMode: open)');
  }
}
