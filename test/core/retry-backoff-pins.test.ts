// How long usage delivery waits before it sends a failed batch again: doubling from
// usage.retryBaseDelayMs with jitter, never more than 30 s, the breaker's next trial while it is open,
// and Stigg's Retry-After. A hot retry loop (every delay 0) passes every other suite; each test here
// was run against its mutant and failed (the mutation review of 2026-12-07, issue 25).
// The clock is jest's (fake timers): delays are read as the time between two calls Stigg saw.
import { StiggAuthError, StiggHttpError } from '../../src/client';
import { CircuitBreaker } from '../../src/core/circuit-breaker';
import { MemoryStore } from '../../src/core/memory-store';
import type { PendingUsage } from '../../src/core/types';
import { UsageBuffer } from '../../src/core/usage-buffer';

const T0 = Date.parse('2026-12-07T00:00:00Z');
const unavailable = () => new StiggHttpError('reportUsageBulk', 503, undefined);

interface Run {
  /** Milliseconds between one reportUsageBulk call and the next. */
  gaps: number[];
  delivered: number;
}

interface Setup {
  /** The errors of the first calls, in order; the call after them is taken. */
  failures: Error[];
  retryBaseDelayMs: number;
  random: () => number;
  breaker?: { failureThreshold: number; resetTimeoutMs: number };
  /** Before the flush (e.g. open the breaker as failed reads would). */
  before?: (breaker: CircuitBreaker) => void;
  /** Fake time that passes between `before` and the flush. */
  idleMs?: number;
}

async function deliver(setup: Setup): Promise<Run> {
  const now = () => Date.now();
  const store = new MemoryStore({ now });
  const breaker = new CircuitBreaker({ failureThreshold: 1_000, resetTimeoutMs: 60_000, ...setup.breaker, now });
  const calls: number[] = [];
  let delivered = 0;
  const buffer = new UsageBuffer({
    store,
    client: {
      getEntitlement: () => Promise.reject(new Error('not asked')),
      reportUsageBulk: ({ usages }) => {
        calls.push(Date.now());
        const failure = setup.failures[calls.length - 1];
        return failure === undefined
          ? Promise.resolve(usages.map((usage, i) => ({ id: String(i), customerId: usage.customerId, featureId: usage.featureId })))
          : Promise.reject(failure);
      },
    },
    batchSize: 10,
    flushIntervalMs: 60_000,
    maxAgeMs: 24 * 60 * 60_000,
    retryBaseDelayMs: setup.retryBaseDelayMs,
    leaseMs: 10 * 60_000,
    breaker,
    now,
    random: setup.random,
    onDelivered: (reports: PendingUsage[]) => {
      delivered += reports.length;
    },
    onDropped: () => undefined,
    onParked: () => undefined,
    onResumed: () => undefined,
    onStoreError: (error) => {
      throw error;
    },
  });
  setup.before?.(breaker);
  if (setup.idleMs !== undefined) jest.advanceTimersByTime(setup.idleMs);
  const report: PendingUsage = {
    id: 'r1',
    idempotencyKey: 'k1',
    customerId: 'c',
    featureId: 'f',
    value: 1,
    createdAt: new Date(Date.now()).toISOString(),
    attempts: 0,
  };
  store.enqueueUsage('c\u001f\u001ff', report);
  buffer.notify();
  let done = false;
  const flushed = buffer.flush().then(() => {
    done = true;
  });
  // Each step runs the next timer (a retry delay) and lets the promises it settles run.
  for (let step = 0; !done && step < 10_000; step += 1) await jest.advanceTimersToNextTimerAsync();
  await flushed;
  return { gaps: calls.slice(1).map((at, i) => at - (calls[i] as number)), delivered };
}

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: T0 });
});
afterEach(() => {
  jest.useRealTimers();
});

const failing = (n: number, error: () => Error = unavailable) => Array.from({ length: n }, error);

describe('backoff between deliveries of a failing batch', () => {
  test('each delay doubles from usage.retryBaseDelayMs and stops at 30 s (jitter at its top)', async () => {
    const run = await deliver({ failures: failing(8), retryBaseDelayMs: 1_000, random: () => 1 });
    expect(run.gaps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(run.delivered).toBe(1);
  });

  test('jitter takes each delay between half and all of the doubled one, the 30 s cap applied before it', async () => {
    expect((await deliver({ failures: failing(7), retryBaseDelayMs: 1_000, random: () => 0 })).gaps).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000,
    ]);
    expect((await deliver({ failures: failing(3), retryBaseDelayMs: 1_000, random: () => 0.5 })).gaps).toEqual([750, 1_500, 3_000]);
  });

  test('a rejected API key is retried with the same backoff (it never gives a report up)', async () => {
    const run = await deliver({
      failures: failing(3, () => new StiggAuthError('reportUsageBulk', 401)),
      retryBaseDelayMs: 1_000,
      random: () => 1,
    });
    expect(run.gaps).toEqual([1_000, 2_000, 4_000]);
    expect(run.delivered).toBe(1);
  });
});

describe('while the circuit breaker is open', () => {
  test('a retry waits for the breaker’s next trial, not the shorter backoff', async () => {
    const run = await deliver({
      failures: failing(3),
      retryBaseDelayMs: 100,
      random: () => 1,
      breaker: { failureThreshold: 2, resetTimeoutMs: 20_000 },
    });
    // The first failure leaves the breaker closed (backoff); the second opens it.
    expect(run.gaps).toEqual([100, 20_000, 20_000]);
  });

  test('the wait for a breaker that stays open long is capped at 30 s', async () => {
    const run = await deliver({
      failures: failing(3),
      retryBaseDelayMs: 100,
      random: () => 1,
      breaker: { failureThreshold: 2, resetTimeoutMs: 10 * 60_000 },
    });
    expect(run.gaps).toEqual([100, 30_000, 30_000]);
  });

  test('a breaker opened by failed reads, its trial 2 s away, still gets at least usage.retryBaseDelayMs between calls', async () => {
    const run = await deliver({
      // An auth failure does not move the breaker: its remaining 2 s decide.
      failures: failing(1, () => new StiggAuthError('reportUsageBulk', 401)),
      retryBaseDelayMs: 3_000,
      random: () => 0,
      breaker: { failureThreshold: 2, resetTimeoutMs: 10_000 },
      before: (breaker) => {
        breaker.failure();
        breaker.failure();
      },
      idleMs: 8_000,
    });
    expect(run.gaps).toEqual([3_000]);
  });
});

describe("Stigg's Retry-After", () => {
  const limited = (retryAfterMs: number) => () => new StiggHttpError('reportUsageBulk', 429, retryAfterMs);

  test('a 429 asking for 7 s is waited 7 s, not the 1 s backoff', async () => {
    const run = await deliver({ failures: failing(2, limited(7_000)), retryBaseDelayMs: 1_000, random: () => 1 });
    expect(run.gaps).toEqual([7_000, 7_000]);
    expect(run.delivered).toBe(1);
  });

  test('a Retry-After shorter than the backoff does not shorten it', async () => {
    const run = await deliver({ failures: failing(2, limited(100)), retryBaseDelayMs: 1_000, random: () => 1 });
    expect(run.gaps).toEqual([1_000, 2_000]);
  });

  test('a Retry-After past 30 s is capped at 30 s', async () => {
    const run = await deliver({ failures: failing(1, limited(5 * 60_000)), retryBaseDelayMs: 1_000, random: () => 1 });
    expect(run.gaps).toEqual([30_000]);
  });
});
