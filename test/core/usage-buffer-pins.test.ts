// Lines of usage delivery where a one-token change loses usage or stops protecting Stigg, each pinned
// by a test named for the behaviour and run against its mutant (the mutation review of 2026-12-07).
import { StiggGraphQLError, StiggHttpError } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementUnavailableError } from '../../src/core/errors';
import { MemoryStore } from '../../src/core/memory-store';
import type { Entitlements, EntitlementsUpstream, PendingUsage } from '../../src/core/types';
import { ANALYTICS, customer, startRig, TEMPLATES, usageKey, type Rig } from './helpers';

const HOUR = 60 * 60_000;
let rig: Rig;
const opened: Entitlements[] = [];

beforeAll(async () => {
  rig = await startRig(
    [
      customer('pin-poison', 'plan-revvenu-growth'),
      customer('pin-cold', 'plan-revvenu-growth'),
      customer('pin-hold', 'plan-revvenu-growth'),
    ],
    {},
    { maxRetries: 0 },
  );
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((entitlements) => entitlements.close({ timeoutMs: 100 })));
});
afterAll(() => rig.stop());

const unavailable = () => Object.assign(new Error('Stigg answered 503'), { status: 503 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const applied = (customerId: string): number | undefined => rig.emulator.stats().usage[usageKey(customerId, TEMPLATES)];

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

// A retry delay holds the process only while flush()/close() is awaited (UsageBuffer.flush and sleep):
// a background retry must not keep a process alive that has nothing left to wait for, and `await
// close()` in a SIGTERM handler must not exit while a retry is pending (the usage would be handed over
// undelivered). Counted as Node counts what keeps the event loop alive (ref'd timers); the delays are
// real and never waited out: close() at its deadline wakes them.
describe('retry delays hold the process only while flush() is awaited', () => {
  const refTimers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
  let calls = 0;
  let refusing = true;
  const rateLimited = (): EntitlementsUpstream => ({
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input, options) => {
      calls += 1;
      return refusing ? Promise.reject(new StiggHttpError('reportUsageBulk', 429, 8_000)) : rig.client.reportUsageBulk(input, options);
    },
  });
  beforeEach(() => {
    calls = 0;
    refusing = true;
  });
  // batchSize 1: a report is sent at once, in the background, and its retry waits Retry-After (8 s).
  const make = (): Entitlements => {
    const entitlements = createEntitlements({ client: rateLimited(), usage: { batchSize: 1, flushIntervalMs: 60_000 } });
    entitlements.on('usage:undelivered', () => undefined);
    opened.push(entitlements);
    return entitlements;
  };
  const retrying = async (count: number): Promise<void> => {
    for (let waited = 0; calls < count && waited < 5_000; waited += 5) await sleep(5);
    expect(calls).toBe(count);
    await sleep(5); // the rejection reaches the retry's sleep
  };

  // Mutants: flush()'s ref() loop emptied; sleep() never unref'ing (`this.waiting === 0` → false).
  test('a background retry delay does not hold the process; flush() called while it runs holds it', async () => {
    const entitlements = make();
    void entitlements.report({ customerId: 'pin-hold', featureId: TEMPLATES, value: 1 });
    await retrying(1);
    const before = refTimers();
    void entitlements.flush();
    expect(refTimers()).toBe(before + 1);
  });

  // Mutant: sleep() unref'ing a delay begun while flush() is awaited (`this.waiting === 0` → true). A
  // second flush() finds that delay already holding the process (it would ref it otherwise).
  test('a retry delay begun while flush() is awaited holds the process', async () => {
    const entitlements = make();
    const flushed = entitlements.flush();
    void entitlements.report({ customerId: 'pin-hold', featureId: TEMPLATES, value: 1 });
    await retrying(1);
    const before = refTimers();
    void entitlements.flush();
    expect(refTimers()).toBe(before);
    void flushed;
  });

  // Mutants: flush()'s count of waiters not taken back when it settles (`waiting += 1` → `-=`, done()
  // emptied, `waiting -= 1` → `+=`): a later background delay held the process (flush() then has nothing to ref).
  test('once flush() has settled, a later background retry delay no longer holds the process', async () => {
    const entitlements = make();
    refusing = false;
    void entitlements.report({ customerId: 'pin-hold', featureId: TEMPLATES, value: 1 });
    await entitlements.flush();
    expect(applied('pin-hold')).toBeGreaterThanOrEqual(1);
    refusing = true;
    void entitlements.report({ customerId: 'pin-hold', featureId: TEMPLATES, value: 1 });
    await retrying(calls + 1);
    const before = refTimers();
    void entitlements.flush();
    expect(refTimers()).toBe(before + 1);
  });

  // Mutants: abort() not waking the retry delays (its loop emptied, or wake() dropped): the drain slept on past close()'s
  // deadline (8 s, held open by close()'s own flush), and so did every flush() behind it; clearTimeout() dropped: the
  // woken delay's timer still held the process for its 8 s.
  test('close() at its deadline cuts a retry delay short: a flush() after it resolves at once', async () => {
    const entitlements = make();
    const before = refTimers();
    void entitlements.report({ customerId: 'pin-hold', featureId: TEMPLATES, value: 1 });
    await retrying(1);
    await entitlements.close({ timeoutMs: 50 });
    // Its timer is cleared too: nothing is left to hold the process once close() resolved.
    expect(refTimers()).toBe(before);
    expect(await Promise.race([entitlements.flush().then(() => 'flushed'), sleep(1_000).then(() => 'waiting')])).toBe('flushed');
    expect(calls).toBe(1);
  });
});

// Mutant: `this.inFlight?.abort()` → `this.inFlight.abort()` (UsageBuffer.abort): a deadline reached before any call to
// Stigg (the store hanging) threw, and close() rejected instead of handing the usage over.
test('close() reaching its deadline before any call to Stigg (the store hanging) resolves and hands the usage over', async () => {
  class HangingStore extends MemoryStore {
    // A store may answer asynchronously (Store.claimUsage returns MaybePromise); this one never answers.
    override claimUsage(): PendingUsage[] {
      return new Promise<never>(() => undefined) as unknown as PendingUsage[];
    }
  }
  const undelivered: PendingUsage[] = [];
  const entitlements = createEntitlements({ client: rig.client, store: new HangingStore(), usage: { flushIntervalMs: 60_000 } });
  entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
  void entitlements.report({ customerId: 'pin-hold', featureId: TEMPLATES, value: 7 });
  const closed = await entitlements.close({ timeoutMs: 50 });
  expect(undelivered.map((report) => report.value)).toEqual([7]);
  expect(closed.undelivered).toEqual(undelivered);
});
