// Lines of usage delivery where a one-token change loses usage or stops protecting Stigg, each pinned
// by a test named for the behaviour and run against its mutant (the mutation review of 2026-12-07).
import { StiggGraphQLError } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementUnavailableError } from '../../src/core/errors';
import type { Entitlements, EntitlementsUpstream, PendingUsage } from '../../src/core/types';
import { ANALYTICS, customer, startRig, TEMPLATES, usageKey, type Rig } from './helpers';

const HOUR = 60 * 60_000;
let rig: Rig;
const opened: Entitlements[] = [];

beforeAll(async () => {
  rig = await startRig([customer('pin-poison', 'plan-revvenu-growth'), customer('pin-cold', 'plan-revvenu-growth')], {}, { maxRetries: 0 });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((entitlements) => entitlements.close({ timeoutMs: 100 })));
});
afterAll(() => rig.stop());

const unavailable = () => Object.assign(new Error('Stigg answered 503'), { status: 503 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Mutant: `kind === 'transient'` → false before breaker.failure() in UsageBuffer.send.
test('failed usage deliveries open the shared circuit breaker: a cold check then fails fast without asking Stigg', async () => {
  let reads = 0;
  let deliveries = 0;
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => {
      reads += 1;
      return rig.client.getEntitlement(query);
    },
    reportUsageBulk: () => {
      deliveries += 1;
      return Promise.reject(unavailable());
    },
  };
  const entitlements = createEntitlements({
    client,
    circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 60_000 },
    usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 1 },
  });
  opened.push(entitlements);
  void entitlements.report({ customerId: 'pin-poison', featureId: TEMPLATES, value: 1 });
  void entitlements.flush();
  for (let waited = 0; deliveries < 2 && waited < 10_000; waited += 5) await sleep(5);
  expect(deliveries).toBeGreaterThanOrEqual(2);
  await expect(Promise.resolve().then(() => entitlements.check({ customerId: 'pin-cold', featureId: ANALYTICS }))).rejects.toBeInstanceOf(
    EntitlementUnavailableError,
  );
  expect(reads).toBe(0);
});

// Mutant: `&& breaker.state === 'closed'` removed from UsageBuffer.failedAlone.
test('a report past usage.maxAgeMs is not given up while Stigg is down (breaker open): it is delivered once Stigg is back', async () => {
  let now = Date.parse('2026-12-07T00:00:00Z');
  let down = true;
  const dropped: PendingUsage[] = [];
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => (down ? Promise.reject(unavailable()) : rig.client.getEntitlement(query)),
    reportUsageBulk: (input) =>
      down
        ? // Failing in a way not known to be transient nor permanent: kept until maxAgeMs, while Stigg answers.
          Promise.reject(
            new StiggGraphQLError('reportUsageBulk', 200, [{ message: 'Unexpected', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]),
          )
        : rig.client.reportUsageBulk(input),
  };
  const entitlements = createEntitlements({
    client,
    now: () => now,
    failMode: 'closed',
    circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 10 * 24 * HOUR },
    usage: { flushIntervalMs: 60_000, leaseMs: 1_000, maxAgeMs: 24 * HOUR },
  });
  opened.push(entitlements);
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  void entitlements.report({ customerId: 'pin-poison', featureId: TEMPLATES, value: 3 });
  // Two failed reads open the breaker (Stigg is down for everyone).
  for (const id of ['pin-cold', 'pin-cold-2']) {
    await expect(Promise.resolve().then(() => entitlements.check({ customerId: id, featureId: ANALYTICS }))).rejects.toBeInstanceOf(
      EntitlementUnavailableError,
    );
  }
  now += 25 * HOUR;
  await entitlements.flush();
  expect(dropped).toEqual([]);
  down = false;
  now += 2_000;
  await entitlements.flush();
  expect(dropped).toEqual([]);
  expect(rig.emulator.stats().usage[usageKey('pin-poison', TEMPLATES)]).toBe(3);
});
