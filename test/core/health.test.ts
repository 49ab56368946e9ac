import { EntitlementUnavailableError } from '../../src/core/errors';
import type { Entitlements, UpstreamCall } from '../../src/core/types';
import { customer, startRig, TEMPLATES } from './helpers';
import { forSuite } from '../support/suite';

// health(): a synchronous snapshot for a readiness probe, read from the engine (breaker, store,
// outbox), and 'upstream:call': one event per call to Stigg with its duration and outcome.
let clock = 0;

const rig = forSuite(() => startRig([customer('ten', 'plan-revvenu-essentials')], {}, { maxRetries: 0, timeoutMs: 5_000 }));
beforeEach(() => {
  clock = Date.parse('2026-12-07T12:00:00.000Z');
});
afterEach(() => rig.emulator.setFaults({ failureRate: 0 }));

/** Delivery only on flush(): the interval (half an hour) never fires, and the injected clock moves by hand. */
function engine(): Entitlements {
  return rig.make({
    now: () => clock,
    circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 120_000 },
    usage: { flushIntervalMs: 3_600_000 },
    logger: { warn: () => undefined, error: () => undefined },
  });
}

async function failingCheck(entitlements: Entitlements, customerId: string): Promise<void> {
  await expect(Promise.resolve().then(() => entitlements.check({ customerId, featureId: TEMPLATES }))).rejects.toBeInstanceOf(
    EntitlementUnavailableError,
  );
}

test('a fresh engine is healthy: breaker closed, memory store reachable, empty outbox', () => {
  expect(engine().health()).toEqual({
    ok: true,
    closed: false,
    breaker: 'closed',
    store: { name: 'memory', reachable: true, error: null },
    outbox: { depth: 0, oldestAgeMs: null, scope: 'store', parked: false },
  });
});

test('a 60 s outage (injected clock): the breaker opens, the outbox ages with the clock; after recovery both are back', async () => {
  const entitlements = engine();
  await entitlements.check({ customerId: 'ten', featureId: TEMPLATES });
  rig.emulator.setFaults({ failureRate: 1 });
  await entitlements.report({ customerId: 'ten', featureId: TEMPLATES, value: 2 });
  await failingCheck(entitlements, 'nobody-1');
  await failingCheck(entitlements, 'nobody-2');
  let health = entitlements.health();
  expect(health).toMatchObject({ ok: false, breaker: 'open', outbox: { depth: 1, oldestAgeMs: 0 } });

  for (const second of [1, 30, 60]) {
    clock += second === 1 ? 1_000 : second === 30 ? 29_000 : 30_000;
    health = entitlements.health();
    expect([health.breaker, health.outbox.depth, health.outbox.oldestAgeMs]).toEqual(['open', 1, second * 1_000]);
  }

  await entitlements.report({ customerId: 'ten', featureId: TEMPLATES, value: 1 });
  expect(entitlements.health().outbox).toMatchObject({ depth: 2, oldestAgeMs: 60_000 });

  // Recovery: past resetTimeoutMs one trial call goes out; its success closes the breaker, then the outbox drains.
  rig.emulator.setFaults({ failureRate: 0 });
  clock += 120_000;
  expect(entitlements.health().breaker).toBe('half-open');
  await entitlements.check({ customerId: 'nobody-3', featureId: TEMPLATES });
  await entitlements.flush();
  expect(entitlements.health()).toMatchObject({ ok: true, breaker: 'closed', outbox: { depth: 0, oldestAgeMs: null } });
});

test('closed after close()', async () => {
  const entitlements = engine();
  await entitlements.close();
  expect(entitlements.health()).toMatchObject({ ok: false, closed: true });
});

test("'upstream:call' carries each call's operation, duration by the engine's clock, and outcome", async () => {
  const entitlements = engine();
  const calls: UpstreamCall[] = [];
  await entitlements.check({ customerId: 'ten', featureId: TEMPLATES });
  entitlements.on('upstream:call', (call) => calls.push(call));
  await entitlements.report({ customerId: 'ten', featureId: TEMPLATES, value: 1 });
  await entitlements.flush();
  rig.emulator.setFaults({ failureRate: 1 });
  await failingCheck(entitlements, 'nobody-4');
  expect(calls.map((call) => [call.operation, call.outcome])).toEqual([
    ['reportUsageBulk', 'ok'],
    ['getEntitlementsState', 'transient'],
  ]);
  // The clock stands still in this test: every duration reads 0 by it.
  expect(calls.map((call) => call.durationMs)).toEqual([0, 0]);
});
