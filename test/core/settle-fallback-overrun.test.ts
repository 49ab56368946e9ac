import { StiggClient } from '../../src/client';
import { createEntitlements, type Lease } from '../../src/core';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass on issue 23: settle() past the reservation on a fallback grant (Stigg down). The
// units are reported, and must count against the fallback's usageLimit like any grant's units, or
// a route reserving 1 and settling 4 gets four times the fallback's cap during an outage.

const CAMPAIGNS = 'feature-02-campaigns';
const CUSTOMER = 'c-basic';

const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }));

test('a fallback grant settled above its reservation takes the extra units from the fallback total', async () => {
  const down = createEntitlements({ client, fallback: { [CAMPAIGNS]: { hasAccess: true, usageLimit: 4 } } });
  emu.setFaults({ failureRate: 1 });
  try {
    const acquireDown = (units: number): Promise<Lease | string> =>
      Promise.resolve()
        .then(() => down.acquire({ customerId: CUSTOMER, featureId: CAMPAIGNS, requestedUsage: units }))
        .then(
          (lease) => lease,
          (error: unknown) => (error as Error).name,
        );
    const first = await acquireDown(1);
    if (typeof first === 'string') throw new Error(first);
    expect(first.decision.source).toBe('fallback');
    first.settle(4); // the whole fallback total used
    const second = await acquireDown(1);
    expect(typeof second === 'string' ? second : `granted at currentUsage ${second.decision.currentUsage}`).toBe(
      'EntitlementUnavailableError',
    );
  } finally {
    emu.setFaults({ failureRate: 0 });
    await down.close({ timeoutMs: 100 });
  }
});
