/**
 * One upstream read per customer (and resource): the entitlement set Stigg's own SDKs read, shared by
 * every feature; and one customer's misses, answered 429, fall on that customer alone.
 */
import http from 'node:http';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementUnavailableError } from '../../src/core/errors';
import type { Decision, Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import { ANALYTICS, CAMPAIGNS, CUSTOM_DOMAIN, entitlementReads, TEMPLATES } from './helpers';
import { forwardTo, graphqlUrlOf } from '../support/http';

const TEN = Array.from({ length: 10 }, (_, i) => `feature-x${i}`);

/** The demo catalog, with ten more features a plan grants, and a customer on each plan. */
function catalog(): Catalog {
  return {
    ...defaultCatalog,
    features: [...defaultCatalog.features, ...TEN.map((id) => ({ id, featureType: 'NUMBER' as const, meterType: 'Incremental' as const }))],
    plans: [
      ...defaultCatalog.plans,
      {
        id: 'plan-ten',
        productId: 'product-revvenu',
        pricingType: 'FREE',
        entitlements: TEN.map((featureId) => ({ featureId, usageLimit: 500 })),
      },
    ],
    customers: [
      { id: 'growth', subscriptions: [{ planId: 'plan-revvenu-growth' }] },
      { id: 'ten', subscriptions: [{ planId: 'plan-ten' }] },
      { id: 'flood', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
      ...Array.from({ length: 4 }, (_, i) => ({ id: `other-${i}`, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
    ],
  };
}

let emulator: Emulator;
const made: Entitlements[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, catalog: catalog() });
});

afterAll(async () => {
  await Promise.all(made.map((e) => e.close()));
  await emulator.stop();
});

function make(
  url = emulator.url,
  options: Parameters<typeof createEntitlements>[0] extends infer O ? Omit<O, 'client'> : never = {},
): Entitlements {
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: url, maxRetries: 0 });
  const entitlements = createEntitlements({ client, ...options });
  made.push(entitlements);
  return entitlements;
}

test('a cold customer whose page needs 4 features costs 1 read', async () => {
  const entitlements = make();
  const before = entitlementReads(emulator);
  for (const featureId of [TEMPLATES, CAMPAIGNS, CUSTOM_DOMAIN, ANALYTICS]) {
    expect(await entitlements.check({ customerId: 'growth', featureId })).toMatchObject({ granted: true });
  }
  expect(entitlementReads(emulator) - before).toBe(1);
});

test('1,000 concurrent cold requests across 10 features of one customer cost 1 read', async () => {
  const entitlements = make();
  const before = entitlementReads(emulator);
  const decisions = await Promise.all(
    Array.from({ length: 1000 }, (_, i) =>
      entitlements.acquire({ customerId: 'ten', featureId: TEN[i % 10] as string, requestedUsage: 1 }),
    ),
  );
  expect(entitlementReads(emulator) - before).toBe(1);
  expect(decisions.every((lease) => lease.decision.granted && lease.decision.remaining === 500 - lease.decision.currentUsage! - 1)).toBe(
    true,
  );
  for (const lease of decisions) lease.release();
});

/** Stigg in front of the emulator, answering 429 to every read about `limited` (Retry-After: 1), counting them. */
async function rateLimitingProxy(
  limited: string,
): Promise<{ url: string; limitedReads: () => number; maxInFlight: () => number; answered: () => number; close(): Promise<void> }> {
  let limitedReads = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let answered = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (body.includes(`"customerId":"${limited}"`)) {
        limitedReads += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          inFlight -= 1;
          answered += 1;
          res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' }).end('rate limited');
        }, 20);
        return;
      }
      forwardTo(emulator.url, req, res, body);
    });
  });
  const url = await graphqlUrlOf(server);
  return {
    url,
    limitedReads: () => limitedReads,
    maxInFlight: () => maxInFlight,
    answered: () => answered,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test.each(['closed', 'open'] as const)(
  'a customer flooding new resource ids while Stigg answers it 429 leaves the others untouched (failMode %s)',
  async (failMode) => {
    const proxy = await rateLimitingProxy('flood');
    try {
      const entitlements = make(proxy.url, { failMode, circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 60_000 } });
      const flood = Array.from({ length: 300 }, (_, i) =>
        Promise.resolve()
          .then(() =>
            entitlements.acquire({ customerId: 'flood', resourceId: `r-${failMode}-${i}`, featureId: TEMPLATES, requestedUsage: 1 }),
          )
          .then(
            (lease) => lease.decision.source,
            (error: unknown) => (error instanceof EntitlementUnavailableError ? 'unavailable' : 'other'),
          ),
      );
      // Once Stigg has answered the flood 429s, another cold customer: the basic plan's 3 templates, asked 5 times.
      for (let waited = 0; proxy.answered() < 4 && waited < 5_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(proxy.answered()).toBeGreaterThanOrEqual(4);
      const other = `other-${failMode === 'closed' ? 0 : 1}`;
      const outcomes: Array<Decision | 'unavailable'> = [];
      for (let i = 0; i < 5; i += 1) {
        try {
          const lease = await entitlements.acquire({ customerId: other, featureId: TEMPLATES, requestedUsage: 1 });
          outcomes.push(lease.decision);
          lease.commit();
        } catch (error) {
          if (!(error instanceof EntitlementUnavailableError)) throw error;
          outcomes.push('unavailable');
        }
      }
      const flooded = await Promise.all(flood);
      expect(outcomes.filter((o) => o === 'unavailable')).toHaveLength(0);
      expect(outcomes.map((o) => (o === 'unavailable' ? o : o.granted))).toEqual([true, true, true, false, false]);
      expect(outcomes.map((o) => (o === 'unavailable' ? o : o.accessDeniedReason))).toEqual([
        null,
        null,
        null,
        'RequestedUsageExceedingLimit',
        'RequestedUsageExceedingLimit',
      ]);
      // The flooding customer's reads: few in flight, and held for Retry-After after the first 429s.
      expect(proxy.maxInFlight()).toBeLessThanOrEqual(4);
      expect(proxy.limitedReads()).toBeLessThan(300);
      // Fail open grants what Stigg's 429 held (fail-open, logged) and answers 503 to reads the gate's own
      // bound refused (Stigg was not asked); fail closed answers it all 503: its own problem either way.
      if (failMode === 'closed') expect(new Set(flooded)).toEqual(new Set(['unavailable']));
      else expect([...new Set(flooded)].filter((outcome) => outcome !== 'fail-open' && outcome !== 'unavailable')).toEqual([]);
    } finally {
      await proxy.close();
    }
  },
);
