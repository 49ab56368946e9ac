// Fixed (issue 22 review): with failMode 'open', a read refused by the gate's own per-customer bound
// (4 in flight, 64 waiting) was treated as "Stigg unavailable" and granted without any decision,
// while Stigg was up. One customer asking 100 cold resource ids at once (ids Stigg does not know:
// CustomerResourceNotFound) got 32 grants (source 'fail-open'); fail closed, 32 503s. Now the
// throttled reads answer 503 under either mode: a customer's own burst is never served blind.
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementUnavailableError } from '../../src/core/errors';
import { defaultCatalog, startEmulator } from '../../src/emulator';

it.each(['open', 'closed'] as const)(
  '100 concurrent cold resource ids of one customer, Stigg healthy (failMode %s): none granted blind, each denied or 503',
  async (failMode) => {
    const emulator = await startEmulator({
      port: 0,
      latencyMs: 30,
      catalog: { ...defaultCatalog, customers: [{ id: 'sites', subscriptions: [{ planId: 'plan-revvenu-basic', resourceId: 'site-1' }] }] },
    });
    const entitlements = createEntitlements({
      client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }),
      failMode,
    });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          Promise.resolve(
            entitlements.acquire({ customerId: 'sites', resourceId: `unknown-${i}`, featureId: 'feature-01-templates', requestedUsage: 1 }),
          ).then(
            (lease) =>
              `${lease.decision.granted ? 'granted' : 'denied'} (${lease.decision.source}, ${String(lease.decision.accessDeniedReason)})`,
            (error: unknown) => (error instanceof EntitlementUnavailableError ? '503' : String(error)),
          ),
        ),
      );
      const counts: Record<string, number> = {};
      for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
      // Before: open → { 'denied (upstream, CustomerResourceNotFound)': 68, 'granted (fail-open, null)': 32 }.
      expect(Object.keys(counts).filter((outcome) => outcome.startsWith('granted'))).toEqual([]);
      expect((counts['denied (upstream, CustomerResourceNotFound)'] ?? 0) + (counts['503'] ?? 0)).toBe(100);
    } finally {
      await entitlements.close();
      await emulator.stop();
    }
  },
);
