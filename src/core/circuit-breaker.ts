import { StiggGateError } from './stigg-gate-error';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one trial call is let through. */
  resetTimeoutMs: number;
  now: () => number;
}

/** Raised instead of calling Stigg while the circuit is open. */
export class CircuitOpenError extends StiggGateError {
  override readonly name = 'CircuitOpenError';
  readonly errorCode: string = 'ERR_STIGG_GATE_CIRCUIT_OPEN';
  readonly transient = true;
  constructor(readonly retryInMs: number) {
    super(`Stigg is considered unavailable (circuit open); next attempt in ${Math.max(0, Math.ceil(retryInMs))}ms`);
  }
}

/**
 * closed → (failureThreshold consecutive failures) → open → (resetTimeoutMs) → half-open: one trial
 * call; its success closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(private readonly options: CircuitBreakerOptions) {}

  get state(): CircuitState {
    if (this.current === 'open' && this.options.now() - this.openedAt >= this.options.resetTimeoutMs) return 'half-open';
    return this.current;
  }

  /** Whether a call may go upstream now; in half-open only the single trial call may. */
  allow(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.options.now() - this.openedAt < this.options.resetTimeoutMs) return false;
      this.current = 'half-open';
      this.trialInFlight = false;
    }
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** The error to fail with while calls are not allowed. */
  rejection(): CircuitOpenError {
    const waited = this.options.now() - this.openedAt;
    return new CircuitOpenError(this.current === 'open' ? this.options.resetTimeoutMs - waited : 0);
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    this.current = 'closed';
  }

  /** A call that proved nothing either way (e.g. a rejected input): only frees the half-open trial. */
  settled(): void {
    this.trialInFlight = false;
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures += 1;
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.options.now();
    }
  }
}
