import type { CircuitBreaker } from './circuit-breaker';

const MAX_RETRY_DELAY_MS = 30_000;

/**
 * How long a usage delivery waits before its next attempt: while the breaker is open, until its next
 * trial; otherwise exponential backoff with jitter, or Stigg's Retry-After when longer (at most 30 s).
 */
export function retryDelay(attempt: number, error: unknown, breaker: CircuitBreaker, baseDelayMs: number, random: () => number): number {
  if (breaker.state === 'open') return Math.min(MAX_RETRY_DELAY_MS, Math.max(baseDelayMs, breaker.rejection().retryInMs));
  const exponential = Math.min(MAX_RETRY_DELAY_MS, baseDelayMs * 2 ** Math.min(attempt - 1, 20));
  const jittered = exponential / 2 + (random() * exponential) / 2;
  const retryAfter = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof retryAfter === 'number' && retryAfter > jittered ? Math.min(retryAfter, MAX_RETRY_DELAY_MS) : jittered;
}
