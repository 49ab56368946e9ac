import { LogThrottle } from '../util/log-throttle';
import { asError, noop } from '../util/maybe-promise';
import { raceTimer, unref } from '../util/timers';
import { classifyFailure } from './upstream-log';
import type { Runtime } from './runtime';
import type { AccessDeniedReason, Decision, Logger, UpstreamCheckReport } from './types';

/** At most one call to Stigg per this many ms (by the engine's clock). */
export const CHECK_REPORT_INTERVAL_MS = 1_000;
/** Checks one call carries (StiggClient.reportEntitlementCheckRequested takes up to 200 at once). */
export const CHECKS_PER_CALL = 200;
/** Checks waiting at most; beyond, new ones are dropped, counted and logged. */
export const MAX_WAITING_CHECKS = 2_000;
/** How often the timer looks; the clock decides whether a call is due. */
const TICK_MS = 250;

/** Stigg's AccessDeniedReason enum: its input type refuses any other value (a newer reason goes as Unknown). */
const SCHEMA_REASONS: Record<AccessDeniedReason, true> = {
  BudgetExceeded: true,
  CustomerIsArchived: true,
  CustomerNotFound: true,
  CustomerResourceNotFound: true,
  FeatureNotFound: true,
  FeatureTypeMismatch: true,
  InsufficientCredits: true,
  NoActiveSubscription: true,
  NoFeatureEntitlementInSubscription: true,
  RequestedUsageExceedingLimit: true,
  RequestedValuesMismatch: true,
  Revoked: true,
  Unknown: true,
};

function wireReason(reason: string | null): AccessDeniedReason | null {
  if (reason === null) return null;
  return Object.prototype.hasOwnProperty.call(SCHEMA_REASONS, reason) ? (reason as AccessDeniedReason) : 'Unknown';
}

/** A decision as Stigg's EntitlementCheckRequested: what the app was told, with the figures it was decided on. */
export function toCheckReport(decision: Decision): UpstreamCheckReport {
  const requestedUsage = decision.requestedUsage > 0 ? decision.requestedUsage : null;
  const requestedValues = decision.requestedValues.length > 0 ? [...decision.requestedValues] : null;
  return {
    customerId: decision.customerId,
    featureId: decision.featureId,
    resourceId: decision.resourceId ?? null,
    requestedUsage,
    requestedValues,
    entitlementCheckResult: {
      hasAccess: decision.granted,
      accessDeniedReason: wireReason(decision.accessDeniedReason),
      currentUsage: decision.currentUsage,
      usageLimit: decision.usageLimit,
      hasUnlimitedUsage: decision.hasUnlimitedUsage,
      hasSoftLimit: decision.hasSoftLimit,
      requestedUsage,
      requestedValues,
      enumValues: decision.enumValues === null ? null : [...decision.enumValues],
      nextResetDate: decision.usagePeriodEnd,
    },
  };
}

/**
 * The `reportChecks` option: each decision it covers ('denied', or 'all') becomes one check report,
 * queued in memory (never awaited by the request) and sent by a timer in batches, at most one call
 * per CHECK_REPORT_INTERVAL_MS, held while the circuit breaker says Stigg is down. A report is sent
 * once: a failed call is logged (rate-limited) and its reports are not sent again (a repeat of a call
 * Stigg may have applied would count its checks twice). Bounded: past MAX_WAITING_CHECKS new reports
 * are dropped and counted. close() sends what waits, call after call, until its deadline.
 */
export class CheckReporter {
  private waiting: UpstreamCheckReport[] = [];
  private inFlight: Promise<void> | undefined;
  private lastCallAt = -Infinity;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private readonly throttle: LogThrottle<string>;
  /** Reports given up (dropped at the cap, refused or lost by a failed call, left at close()'s deadline). */
  lost = 0;
  /** Reports Stigg took. */
  sent = 0;

  constructor(
    private readonly mode: 'denied' | 'all',
    private readonly send: (checks: UpstreamCheckReport[]) => Promise<void>,
    private readonly runtime: Pick<Runtime, 'now' | 'breaker'>,
    private readonly logger: Logger,
  ) {
    this.throttle = new LogThrottle(runtime.now);
  }

  readonly record = (decision: Decision): void => {
    if (this.closed || (decision.granted && this.mode === 'denied')) return;
    if (this.waiting.length >= MAX_WAITING_CHECKS) {
      this.lose(1, 'overflow', `more than ${MAX_WAITING_CHECKS} check reports waiting (at most ${CHECKS_PER_CALL} go each second)`);
      return;
    }
    this.waiting.push(toCheckReport(decision));
  };

  /** Reports not sent yet. */
  get queued(): number {
    return this.waiting.length;
  }

  start(): void {
    this.timer = unref(setInterval(() => this.tick(), TICK_MS));
  }

  private tick(): void {
    if (this.inFlight !== undefined || this.waiting.length === 0) return;
    if (this.runtime.now() - this.lastCallAt < CHECK_REPORT_INTERVAL_MS || this.runtime.breaker.state === 'open') return;
    void this.sendBatch();
  }

  private sendBatch(): Promise<void> {
    const batch = this.waiting.splice(0, CHECKS_PER_CALL);
    this.lastCallAt = this.runtime.now();
    let call: Promise<void>;
    try {
      call = this.send(batch);
    } catch (error) {
      call = Promise.reject(asError(error));
    }
    const done = call.then(
      () => {
        this.sent += batch.length;
      },
      (error: unknown) => this.failed(batch.length, error),
    );
    this.inFlight = done;
    return done.finally(() => {
      this.inFlight = undefined;
    });
  }

  /** Stops the timer and sends what waits, one call after another, until `timeoutMs` passed. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const drain = async (): Promise<void> => {
      await this.inFlight;
      while (this.waiting.length > 0 && this.closed) await this.sendBatch();
    };
    const result = await raceTimer(drain(), timeoutMs, 'timeout' as const, true).catch(noop);
    if (result === 'timeout' && this.waiting.length > 0) {
      const left = this.waiting.length;
      this.waiting = [];
      this.lose(left, 'close', `entitlements.close() reached its deadline (${timeoutMs} ms)`);
    }
  }

  private failed(count: number, error: unknown): void {
    const { category, cause } = classifyFailure(error);
    this.lose(count, `failed:${category}`, `${cause}; they are not sent again`, asError(error).message);
  }

  /** Counts lost reports and logs them: the first of a kind at once, then one line a minute per kind. */
  private lose(count: number, kind: string, why: string, error?: string): void {
    this.lost += count;
    const admitted = this.throttle.admit(kind);
    if (admitted === undefined) return;
    const meta = { reports: count, lostTotal: this.lost, suppressed: admitted.suppressed, ...(error === undefined ? {} : { error }) };
    const more = admitted.suppressed > 0 ? ` (${admitted.suppressed} more like it in the last minute were not logged)` : '';
    this.logger.warn(meta, `stigg-gate: ${count} check report${count === 1 ? '' : 's'} not delivered to Stigg: ${why}${more}`);
  }
}

/** The reporter of `config.reportChecks`, listening to the engine's 'decision' event; undefined when off. */
export function startCheckReports(runtime: Runtime): CheckReporter | undefined {
  const { reportChecks, client, logger } = runtime.config;
  if (reportChecks === undefined || client.reportEntitlementCheckRequested === undefined) return undefined;
  const report = client.reportEntitlementCheckRequested.bind(client);
  const send = (checks: UpstreamCheckReport[]): Promise<void> => report(checks).then(noop);
  const reporter = new CheckReporter(reportChecks, send, runtime, logger);
  runtime.events.on('decision', reporter.record);
  reporter.start();
  return reporter;
}
