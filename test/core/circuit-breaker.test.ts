import { CircuitBreaker, CircuitOpenError } from '../../src/core/circuit-breaker';

function breaker(failureThreshold = 3, resetTimeoutMs = 1000) {
  let now = 0;
  const circuit = new CircuitBreaker({ failureThreshold, resetTimeoutMs, now: () => now });
  return { circuit, advance: (ms: number) => (now += ms) };
}

test('a new breaker is closed and lets every call through', () => {
  const { circuit } = breaker(3);
  expect(circuit.state).toBe('closed');
  expect([circuit.allow(), circuit.allow(), circuit.allow()]).toEqual([true, true, true]);
});

test('opens after failureThreshold consecutive failures, a success in between resets the count', () => {
  const { circuit } = breaker(3);
  circuit.failure();
  circuit.failure();
  circuit.success();
  circuit.failure();
  circuit.failure();
  expect(circuit.state).toBe('closed');
  expect(circuit.allow()).toBe(true);
  circuit.failure();
  expect(circuit.state).toBe('open');
  expect(circuit.allow()).toBe(false);
  const rejection = circuit.rejection();
  expect(rejection).toBeInstanceOf(CircuitOpenError);
  // The fail-open warning tells a refusal of the open circuit by this name.
  expect(rejection.name).toBe('CircuitOpenError');
  expect(rejection.transient).toBe(true);
  expect(rejection.message).toMatch(/next attempt in 1000ms/);
});

test('half-open lets exactly one trial through; its outcome closes or reopens', () => {
  const { circuit, advance } = breaker(1, 1000);
  circuit.failure();
  advance(999);
  expect(circuit.allow()).toBe(false);
  advance(1);
  expect(circuit.state).toBe('half-open');
  expect(circuit.allow()).toBe(true);
  expect(circuit.allow()).toBe(false);
  circuit.failure();
  expect(circuit.state).toBe('open');
  expect(circuit.allow()).toBe(false);
  advance(1000);
  expect(circuit.allow()).toBe(true);
  circuit.success();
  expect(circuit.state).toBe('closed');
  expect(circuit.allow()).toBe(true);
  expect(circuit.allow()).toBe(true);
});

test('a half-open trial that proved nothing (settled) frees the trial: the next call may go, the circuit stays half-open', () => {
  const { circuit, advance } = breaker(1, 1000);
  circuit.failure();
  advance(1000);
  expect(circuit.allow()).toBe(true);
  expect(circuit.allow()).toBe(false);
  circuit.settled();
  expect(circuit.state).toBe('half-open');
  expect(circuit.allow()).toBe(true);
  expect(circuit.allow()).toBe(false);
});

test('the rejection tells how long until the next trial, counted from when the circuit opened', () => {
  const { circuit, advance } = breaker(2, 10_000);
  circuit.failure();
  advance(5_000);
  circuit.failure();
  advance(3_000);
  expect(circuit.allow()).toBe(false);
  expect(circuit.rejection().retryInMs).toBe(7_000);
  expect(circuit.rejection().message).toMatch(/next attempt in 7000ms/);
  advance(9_000);
  expect(circuit.allow()).toBe(true);
  // Half-open, its trial out (and the reset timeout long past): the next call is refused with no wait to announce.
  expect(circuit.allow()).toBe(false);
  expect(circuit.rejection().retryInMs).toBe(0);
});
