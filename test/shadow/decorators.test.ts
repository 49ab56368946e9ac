import 'reflect-metadata';
import { StiggClient } from '../../src/client';
import { createEntitlements, type EntitlementsOptions } from '../../src/core/entitlements';
import { EntitlementDeniedError } from '../../src/core/errors';
import type { Decision, EnforcementMode, ShadowCounts } from '../../src/core/types';
import { RequireFeature, withCustomer } from '../../src/decorators';
import { startEmulator } from '../../src/emulator';
import {
  ANALYTICS,
  CAMPAIGNS,
  CUSTOM_DOMAIN,
  MISSING,
  MODEL,
  SEATS,
  TEMPLATES,
  denials,
  makeTrace,
  replay,
  total,
  traceCatalog,
  wouldDeny,
  type Result,
  type TraceRequest,
} from './trace';
import { forSuite, onFirstUse } from '../support/suite';

// The 10,000-request trace through decorated service methods (@RequireFeature), against the emulator
// over HTTP: enforcing, in shadow mode from the engine, and in shadow mode from the decorator's option.

const SIZE = 10_000;

const emulator = forSuite(() => startEmulator({ port: 0, catalog: traceCatalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }));

/** The same service twice: its decorators without a mode, and with `mode: 'shadow'`. */
function serviceFor(mode: EnforcementMode | undefined): Record<string, (request: TraceRequest) => Promise<string>> {
  const o = mode === undefined ? {} : { mode };
  class Work {
    @RequireFeature(TEMPLATES, 1, o)
    async templates(): Promise<string> {
      return 'templates';
    }

    @RequireFeature(CAMPAIGNS, (request: TraceRequest) => request.usage ?? 0, o)
    async campaigns(_request: TraceRequest): Promise<string> {
      return 'campaigns';
    }

    @RequireFeature(CUSTOM_DOMAIN, o)
    async customDomain(): Promise<string> {
      return 'custom-domain';
    }

    @RequireFeature(ANALYTICS, o)
    async analytics(): Promise<string> {
      return 'analytics';
    }

    @RequireFeature(MODEL, { ...o, requestedValues: (request: TraceRequest) => request.values ?? [] })
    async model(_request: TraceRequest): Promise<string> {
      return 'model';
    }

    @RequireFeature(SEATS, 1, o)
    async seats(): Promise<string> {
      return 'seats';
    }

    @RequireFeature(MISSING, o)
    async missing(): Promise<string> {
      return 'missing';
    }
  }
  const work = new Work();
  return {
    templates: () => work.templates(),
    campaigns: (request) => work.campaigns(request),
    'custom-domain': () => work.customDomain(),
    analytics: () => work.analytics(),
    model: (request) => work.model(request),
    seats: () => work.seats(),
    missing: () => work.missing(),
  };
}

async function run(
  trace: readonly TraceRequest[],
  mode: EnforcementMode | undefined,
  options: Omit<EntitlementsOptions, 'client'> = {},
): Promise<{ results: Result[]; counts: ShadowCounts; delivered: Record<string, number> }> {
  emulator.reset();
  const entitlements = createEntitlements({ client, ...options });
  // Each customer's calls run one at a time: its latest decision is the call's.
  const latest = new Map<string, Decision>();
  entitlements.on('decision', (decision) => latest.set(decision.customerId, decision));
  const service = serviceFor(mode);
  const results = await replay(trace, async (request) => {
    try {
      const ran = await withCustomer({ entitlements, customerId: request.customerId }, () => service[request.kind]!(request));
      expect(ran).toBe(request.kind);
      return { served: true, reason: latest.get(request.customerId)?.wouldDenyReason ?? null };
    } catch (error) {
      if (!(error instanceof EntitlementDeniedError)) throw error;
      return { served: false, reason: error.accessDeniedReason };
    }
  });
  const counts = entitlements.shadowCounts();
  await entitlements.flush();
  const delivered = { ...emulator.stats().usage };
  await entitlements.close();
  return { results, counts, delivered };
}

test('10,000 calls: shadow mode (engine, or the decorator option) runs every method and would deny what enforcement denies', async () => {
  const trace = makeTrace(SIZE, { seed: 4242 });
  const enforced = await run(trace, undefined);
  const denied = denials(enforced.results);
  expect(Object.keys(denied)).toHaveLength(6);
  expect(denied['RequestedUsageExceedingLimit']).toBeGreaterThan(500);
  for (const shadow of [await run(trace, undefined, { mode: 'shadow' }), await run(trace, 'shadow')]) {
    expect(total(denials(shadow.results))).toBe(0);
    expect(wouldDeny(shadow.results)).toEqual(denied);
    expect(shadow.results.map((result) => result.reason)).toEqual(enforced.results.map((result) => result.reason));
    expect(shadow.counts).toEqual({ decisions: SIZE, wouldDeny: total(denied), byReason: denied, unavailable: 0 });
    expect(shadow.delivered['basic-1||feature-01-templates']).toBeGreaterThan(40);
  }
  expect(enforced.delivered['basic-1||feature-01-templates']).toBe(40);
}, 300_000);

test("a decorator with mode 'enforce' denies on a shadow engine: moving a method to enforcement is one option", async () => {
  emulator.reset();
  const entitlements = createEntitlements({ client, mode: 'shadow' });
  try {
    const enforcing = serviceFor('enforce');
    const shadowing = serviceFor(undefined);
    await expect(withCustomer({ entitlements, customerId: 'basic-1' }, () => shadowing['analytics']!({} as TraceRequest))).resolves.toBe(
      'analytics',
    );
    await expect(
      withCustomer({ entitlements, customerId: 'basic-1' }, () => enforcing['analytics']!({} as TraceRequest)),
    ).rejects.toMatchObject({ name: 'EntitlementDeniedError', accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
  } finally {
    await entitlements.close();
  }
});

test('a decorator mode that is not one throws when the class is declared', () => {
  expect(() => RequireFeature(ANALYTICS, { mode: 'dry-run' as never })).toThrow(
    `"dry-run" is not a valid value for mode in @RequireFeature('feature-04-analytics').`,
  );
});
