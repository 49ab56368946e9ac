import { StiggGraphQLError } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements, EntitlementsUpstream, PendingUsage } from '../../src/core/types';
import { customer, startRig, TEMPLATES, usageKey, closedAfterEach, badUserInput } from './helpers';
import { forSuite } from '../support/suite';

// Stigg refusing EVERY usage report alike (BAD_USER_INPUT: what a change of an input type would do)
// is not 200 bad reports: nothing is dropped, delivery is parked and alerts, and everything is
// delivered once Stigg takes reports again. Only a report refused while others are taken is dropped.

const opened = closedAfterEach({ timeoutMs: 1_000 });
const rig = forSuite(() =>
  startRig(
    ['storm', 'mixed', 'quiet'].map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0 },
  ),
);
const applied = (customerId: string): number => rig.emulator.stats().usage[usageKey(customerId, TEMPLATES)] ?? 0;
/** Stigg (the emulator) behind a switch: while `refusing()`, every reportUsageBulk is refused with BAD_USER_INPUT. */
function switchable(refusing: () => boolean, calls: { count: number }): EntitlementsUpstream {
  return {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) => {
      calls.count += 1;
      return refusing() ? Promise.reject(badUserInput()) : rig.client.reportUsageBulk(input);
    },
  };
}

function make(options: Parameters<typeof createEntitlements>[0]): Entitlements {
  const entitlements = createEntitlements(options);
  opened.push(entitlements);
  return entitlements;
}

interface Heard {
  dropped: PendingUsage[];
  parked: Array<{ code: string; reports: number }>;
  resumed: number;
  errors: string[];
}

function listen(entitlements: Entitlements, heard: Heard): void {
  entitlements.on('usage:dropped', (report) => heard.dropped.push(report));
  entitlements.on('usage:parked', ({ code, reports }) => heard.parked.push({ code, reports }));
  entitlements.on('usage:resumed', () => (heard.resumed += 1));
}

test('BAD_USER_INPUT for every report for a while, then a healthy Stigg: 0 of 200 dropped, 200 delivered, one alert', async () => {
  let now = Date.parse('2026-12-07T12:00:00Z');
  let refusing = true;
  const calls = { count: 0 };
  const heard: Heard = { dropped: [], parked: [], resumed: 0, errors: [] };
  const logger = { warn: () => undefined, error: (_meta: unknown, message: string) => void heard.errors.push(message) };
  const entitlements = make({
    client: switchable(() => refusing, calls),
    logger,
    now: () => now,
    usage: { flushIntervalMs: 60_000, leaseMs: 1_000 },
  });
  listen(entitlements, heard);
  for (let i = 0; i < 200; i += 1) void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 1 });

  // Five seconds of refusals, probed once a second (each probe: the batch, 3 singles, the rest).
  for (let second = 0; second < 5; second += 1) {
    const before = calls.count;
    await entitlements.flush();
    expect(calls.count - before).toBeLessThanOrEqual(1 + 3 + 1);
    now += 1_001;
  }
  expect(heard.dropped).toEqual([]);
  expect(heard.parked).toEqual([{ code: 'BAD_USER_INPUT', reports: 100 }]);
  expect(heard.errors.filter((message) => message.includes('Stigg refused every usage report'))).toHaveLength(1);
  expect(applied('storm')).toBe(0);

  refusing = false;
  await entitlements.flush();
  expect(applied('storm')).toBe(200);
  expect(heard.dropped).toEqual([]);
  expect(heard.resumed).toBe(1);
});

test('a lone report refused with nothing else to show is kept, not dropped; it is dropped once Stigg takes others beside it', async () => {
  let now = Date.parse('2026-12-07T12:00:00Z');
  let refusing = true;
  const heard: Heard = { dropped: [], parked: [], resumed: 0, errors: [] };
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) =>
      refusing || input.usages.some((usage) => usage.customerId === 'nobody')
        ? Promise.reject(badUserInput())
        : rig.client.reportUsageBulk(input),
  };
  const entitlements = make({ client, now: () => now, usage: { flushIntervalMs: 60_000, leaseMs: 1_000 } });
  listen(entitlements, heard);
  void entitlements.report({ customerId: 'nobody', featureId: TEMPLATES, value: 7 });
  await entitlements.flush();
  expect(heard.dropped).toEqual([]);
  expect(heard.parked).toHaveLength(1);

  // Stigg is healthy again, and only "nobody" is refused: the lone report now sits beside good ones.
  refusing = false;
  for (let i = 0; i < 5; i += 1) void entitlements.report({ customerId: 'quiet', featureId: TEMPLATES, value: 1 });
  now += 1_001;
  await entitlements.flush();
  expect(applied('quiet')).toBe(5);
  expect(heard.dropped.map((report) => [report.customerId, report.value])).toEqual([['nobody', 7]]);
  expect(heard.dropped[0]).toMatchObject({ featureId: TEMPLATES, updateBehavior: 'DELTA', idempotencyKey: expect.any(String) });
});

test('bad reports at the head of a batch hold the good ones back for one probe at most', async () => {
  let now = Date.parse('2026-12-07T12:00:00Z');
  const heard: Heard = { dropped: [], parked: [], resumed: 0, errors: [] };
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) =>
      input.usages.some((usage) => usage.customerId === 'nobody') ? Promise.reject(badUserInput()) : rig.client.reportUsageBulk(input),
  };
  const entitlements = make({ client, now: () => now, usage: { flushIntervalMs: 60_000, leaseMs: 1_000 } });
  listen(entitlements, heard);
  for (let i = 0; i < 5; i += 1) void entitlements.report({ customerId: 'nobody', featureId: TEMPLATES, value: 100 });
  for (let i = 0; i < 10; i += 1) void entitlements.report({ customerId: 'mixed', featureId: TEMPLATES, value: 1 });
  await entitlements.flush();
  // Three bad ones first, then the rest (two more bad ones among it) refused at once: parked, nothing lost.
  expect(heard.dropped).toEqual([]);
  now += 1_001;
  await entitlements.flush();
  expect(applied('mixed')).toBe(10);
  expect(heard.dropped.map((report) => report.customerId)).toEqual(['nobody', 'nobody', 'nobody', 'nobody', 'nobody']);
  expect(heard.resumed).toBe(1);
});

test('without a logger or a listener, the parked outbox raises a process warning', async () => {
  const warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    const entitlements = make({ client: switchable(() => true, { count: 0 }), usage: { flushIntervalMs: 60_000 } });
    for (let i = 0; i < 3; i += 1) void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 1 });
    await entitlements.flush();
    const codes = warnings.mock.calls.map((call) => call[1]?.code);
    expect(codes).toEqual(['STIGG_GATE_USAGE_REFUSED']);
    expect(String(warnings.mock.calls[0]?.[0])).toMatch(/Stigg refused every usage report it was shown \(BAD_USER_INPUT, 3 reports\)/);
  } finally {
    warnings.mockRestore();
  }
});

test('while parked, the timer probes with growing delays instead of every tick', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    const calls = { count: 0 };
    const client: EntitlementsUpstream = {
      getEntitlement: () => Promise.reject(new Error('not used')),
      reportUsageBulk: () => {
        calls.count += 1;
        return Promise.reject(badUserInput());
      },
    };
    const logger = { warn: () => undefined, error: () => undefined };
    const entitlements = make({ client, logger, usage: { flushIntervalMs: 100, leaseMs: 50, retryBaseDelayMs: 200 } });
    for (let i = 0; i < 10; i += 1) void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 1 });
    await jest.advanceTimersByTimeAsync(10_000);
    // A tick every 50 ms would make 200 probes of 5 calls; delays of 200 ms doubling make 6.
    expect(calls.count).toBeLessThanOrEqual(7 * 5);
    expect(calls.count).toBeGreaterThan(0);
  } finally {
    jest.useRealTimers();
  }
});

test('close() while parked hands the refused reports over (usage:undelivered), it does not leave them in memory', async () => {
  const entitlements = make({ client: switchable(() => true, { count: 0 }), logger: { warn: () => undefined, error: () => undefined } });
  const undelivered: PendingUsage[] = [];
  entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
  for (let i = 0; i < 4; i += 1) void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 2 });
  await entitlements.close({ timeoutMs: 5_000 });
  expect(undelivered.map((report) => report.value)).toEqual([2, 2, 2, 2]);
});

test('Stigg recovering in the middle of a split: the reports it refused before are asked again, not dropped', async () => {
  let refusals = 4; // the batch, then its first three reports one by one
  const heard: Heard = { dropped: [], parked: [], resumed: 0, errors: [] };
  const entitlements = make({ client: switchable(() => refusals-- > 0, { count: 0 }), usage: { flushIntervalMs: 60_000 } });
  listen(entitlements, heard);
  for (let i = 0; i < 10; i += 1) void entitlements.report({ customerId: 'mixed', featureId: TEMPLATES, value: 1 });
  const before = applied('mixed');
  await entitlements.flush();
  expect(heard.dropped).toEqual([]);
  expect(applied('mixed') - before).toBe(10);
});

test('a batch whose reports each fail without a refusal (an unknown error) is kept and never parks the outbox: delivered once Stigg answers', async () => {
  let now = Date.parse('2026-12-07T12:00:00Z');
  let failing = true;
  const heard: Heard = { dropped: [], parked: [], resumed: 0, errors: [] };
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) =>
      failing
        ? Promise.reject(
            new StiggGraphQLError('reportUsageBulk', 200, [{ message: 'Unexpected', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]),
          )
        : rig.client.reportUsageBulk(input),
  };
  const entitlements = make({ client, now: () => now, usage: { flushIntervalMs: 60_000, leaseMs: 1_000 } });
  listen(entitlements, heard);
  entitlements.on('store:error', (error) => heard.errors.push(error.message));
  const before = applied('mixed');
  for (let i = 0; i < 2; i += 1) void entitlements.report({ customerId: 'mixed', featureId: TEMPLATES, value: 1 });
  await entitlements.flush();
  expect(heard).toMatchObject({ dropped: [], parked: [], errors: [] });

  failing = false;
  now += 1_001;
  await entitlements.flush();
  expect(applied('mixed') - before).toBe(2);
  expect(heard).toMatchObject({ dropped: [], parked: [], resumed: 0, errors: [] });
});

// Refusals.park/mayDrain/accepted: the probe schedule of a parked outbox (base delay, doubling, the 30 s cap),
// health() while parked, and the parked time usage:resumed reports. Mutants: mayDrain never true while
// parked, `Math.min` → `Math.max` (either), `now - baseDelayMs`, the parked state emptied, isParked
// inverted or constant, `now() - since` → `+`, `now() >= nextProbeAt` → `>`.
test('a parked outbox is probed by the timer after usage.retryBaseDelayMs, then twice as long each time up to 30 s; health() says parked until Stigg takes a report, and usage:resumed tells for how long', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    let refusing = true;
    let taken = 0;
    const calls: number[] = [];
    const client: EntitlementsUpstream = {
      getEntitlement: (query) => rig.client.getEntitlement(query),
      reportUsageBulk: (input) => {
        calls.push(Date.now());
        // Taken: Stigg's answer, without the socket (a real one does not answer under the fake clock).
        if (!refusing) taken += input.usages.length;
        return refusing
          ? Promise.reject(badUserInput())
          : Promise.resolve(input.usages.map(({ customerId, featureId }) => ({ id: 'taken', customerId, featureId })));
      },
    };
    const resumed: number[] = [];
    const logger = { warn: () => undefined, error: () => undefined };
    const entitlements = make({ client, logger, usage: { flushIntervalMs: 100, leaseMs: 50, retryBaseDelayMs: 1_000 } });
    entitlements.on('usage:resumed', ({ parkedMs }) => resumed.push(parkedMs));
    expect(entitlements.health().outbox.parked).toBe(false);
    void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 1 });
    await jest.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(1);
    expect(entitlements.health().outbox.parked).toBe(true);
    await jest.advanceTimersByTimeAsync(95_000);
    const gaps = calls.slice(1).map((at, i) => at - (calls[i] as number));
    const expected = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000];
    // The timer ticks every 50 ms, and each probe's time falls on a tick: it goes on that very tick.
    expect(gaps.slice(0, expected.length)).toEqual(expected);
    expect(entitlements.health().outbox.parked).toBe(true);
    refusing = false;
    const parkedAt = calls[0] as number;
    await jest.advanceTimersByTimeAsync(31_000);
    const acceptedAt = calls[calls.length - 1] as number;
    expect(resumed).toEqual([acceptedAt - parkedAt]);
    expect(entitlements.health().outbox.parked).toBe(false);
    expect(taken).toBe(1);
  } finally {
    jest.useRealTimers();
  }
});

// Mutant: the parked alert's codes joined with '' (Refusals.park): two codes read as one unknown code.
test('a park after refusals with two codes names both in usage:parked', async () => {
  const refusal = (code: string): StiggGraphQLError =>
    new StiggGraphQLError('reportUsageBulk', 200, [{ message: code, extensions: { code } }]);
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) =>
      Promise.reject(refusal(input.usages.length === 1 && input.usages[0]?.customerId === 'quiet' ? 'CustomerNotFound' : 'BAD_USER_INPUT')),
  };
  const heard: Heard = { dropped: [], parked: [], resumed: 0, errors: [] };
  const entitlements = make({ client, logger: { warn: () => undefined, error: () => undefined }, usage: { flushIntervalMs: 60_000 } });
  listen(entitlements, heard);
  void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 1 });
  void entitlements.report({ customerId: 'quiet', featureId: TEMPLATES, value: 1 });
  await entitlements.flush();
  expect(heard.parked).toEqual([{ code: 'BAD_USER_INPUT, CustomerNotFound', reports: 2 }]);
  expect(heard.dropped).toEqual([]);
});
