import { StiggClient } from '../../src/client';
import { createEntitlements, type EntitlementsOptions } from '../../src/core/entitlements';
import type { Decision, ShadowCounts } from '../../src/core/types';
import { startEmulator } from '../../src/emulator';
import { CAMPAIGNS, TEMPLATES, denials, makeTrace, replay, total, traceCatalog, wouldDeny, type Result, type TraceRequest } from './trace';
import { forSuite, onFirstUse } from '../support/suite';

// The engine (createEntitlements) replays a 10,000-request trace against the emulator over HTTP, once
// enforcing and once in shadow mode: shadow serves every request, and its would-be denials are the
// enforced run's denials, request for request and reason for reason.

const SIZE = 10_000;

const emulator = forSuite(() => startEmulator({ port: 0, catalog: traceCatalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }));

interface Run {
  results: Result[];
  decisions: Decision[];
  counts: ShadowCounts;
  /** Units Stigg (the emulator) took, by customer|resource|feature. */
  usage: Record<string, number>;
}

/** One replay on a fresh emulator state and a fresh engine, committed as a handler that completed. */
async function run(trace: readonly TraceRequest[], options: Omit<EntitlementsOptions, 'client'> = {}): Promise<Run> {
  emulator.reset();
  const entitlements = createEntitlements({ client, ...options });
  const decisions: Decision[] = [];
  entitlements.on('decision', (decision) => decisions.push(decision));
  const results = await replay(trace, async (request) => {
    const lease = await entitlements.acquire({
      customerId: request.customerId,
      featureId: request.featureId,
      requestedUsage: request.usage,
      requestedValues: request.values,
    });
    const { decision } = lease;
    if (decision.granted) lease.commit();
    return { served: decision.granted, reason: decision.granted ? decision.wouldDenyReason : decision.accessDeniedReason };
  });
  const counts = entitlements.shadowCounts();
  await entitlements.close();
  return { results, decisions, counts, usage: { ...emulator.stats().usage } };
}

test('10,000 requests: shadow serves every one, and would deny exactly what enforcement denies, per reason', async () => {
  const trace = makeTrace(SIZE);
  const enforced = await run(trace);
  const shadow = await run(trace, { mode: 'shadow' });

  const denied = denials(enforced.results);
  // The trace does what it claims: customers cross their limits, and every kind of denial is in it.
  expect(Object.keys(denied).sort()).toEqual([
    'CustomerNotFound',
    'FeatureNotFound',
    'NoActiveSubscription',
    'NoFeatureEntitlementInSubscription',
    'RequestedUsageExceedingLimit',
    'RequestedValuesMismatch',
  ]);
  expect(denied['RequestedUsageExceedingLimit']).toBeGreaterThan(500);
  expect(total(denials(shadow.results))).toBe(0);
  expect(wouldDeny(shadow.results)).toEqual(denied);
  // Request for request, not only in total.
  expect(shadow.results.map((result) => result.reason)).toEqual(enforced.results.map((result) => result.reason));
  // The counter the app reads, and the engine's events, say the same.
  expect(shadow.counts).toEqual({ decisions: SIZE, wouldDeny: total(denied), byReason: denied, unavailable: 0 });
  expect(enforced.counts).toEqual({ decisions: 0, wouldDeny: 0, byReason: {}, unavailable: 0 });
  expect(shadow.decisions).toHaveLength(SIZE);
  expect(enforced.decisions).toHaveLength(SIZE);
  expect(shadow.decisions.every((decision) => decision.granted && !decision.enforced)).toBe(true);
  expect(enforced.decisions.every((decision) => decision.enforced && decision.wouldDenyReason === null)).toBe(true);
  // The work happened: shadow reported every served unit, past the limits enforcement held.
  const templatesAsked = trace.filter((request) => request.customerId === 'basic-1' && request.featureId === TEMPLATES).length;
  expect(enforced.usage[`basic-1||${TEMPLATES}`]).toBe(40);
  expect(shadow.usage[`basic-1||${TEMPLATES}`]).toBe(templatesAsked);
}, 240_000);

test("varying units: with shadowUsage 'skip' shadow stays request for request with enforcement; with 'report' it would deny every request enforcement denies, and more", async () => {
  const trace = makeTrace(SIZE, { seed: 7, variableUsage: true });
  const enforced = await run(trace);
  const skipped = await run(trace, { mode: 'shadow', shadowUsage: 'skip' });
  const reported = await run(trace, { mode: 'shadow' });

  expect(total(denials(skipped.results))).toBe(0);
  expect(skipped.results.map((result) => result.reason)).toEqual(enforced.results.map((result) => result.reason));
  expect(skipped.counts.byReason).toEqual(denials(enforced.results));
  // Nothing enforcement would have refused reached Stigg: the usage is enforcement's, unit for unit.
  expect(skipped.usage).toEqual(enforced.usage);

  // 'report' counts the refused units (the work happened): a later small request enforcement would
  // have fitted under the limit is a would-be denial too. Never fewer than enforcement's.
  expect(total(denials(reported.results))).toBe(0);
  enforced.results.forEach((result, index) => {
    if (!result.served) expect(reported.results[index]?.reason).toBe(result.reason);
  });
  const extra = reported.counts.wouldDeny - total(denials(enforced.results));
  expect(extra).toBeGreaterThan(0);
  expect(reported.usage[`basic-1||${CAMPAIGNS}`]).toBeGreaterThan(enforced.usage[`basic-1||${CAMPAIGNS}`] ?? 0);
}, 240_000);
