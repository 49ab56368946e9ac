import { StiggGraphQLError } from '../../src/client/errors';
import { createEntitlements } from '../../src/core/entitlements';
import type { EntitlementsUpstream, PendingUsage } from '../../src/core/types';
import { TEMPLATES, customer, startRig, type Rig } from './helpers';
import { forSuite } from '../support/suite';

// Usage that will not reach Stigg is never lost in silence: with neither a logger nor a listener,
// 'usage:undelivered' and 'usage:dropped' become process warnings that give the counts.

let warnings: jest.SpyInstance;
const rig = forSuite(() => startRig([customer('growth', 'plan-revvenu-growth')]));
beforeEach(() => {
  rig.emulator.reset();
  rig.emulator.setFaults({ failureRate: 0 });
  warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterEach(() => {
  warnings.mockRestore();
});

function stiggWarnings(): Array<[string, string]> {
  return warnings.mock.calls
    .filter((call) => (call[1] as { type?: string } | undefined)?.type === 'StiggGateWarning')
    .map((call) => [String(call[0]), (call[1] as { code: string }).code]);
}

/** 5 units granted and committed while Stigg answers, then Stigg goes down before they are delivered. */
async function fiveUnitsThenOutage(entitlements: ReturnType<Rig['make']>): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    const lease = await entitlements.acquire({ customerId: 'growth', featureId: TEMPLATES, requestedUsage: 1 });
    expect(lease.decision.granted).toBe(true);
    rig.emulator.setFaults({ failureRate: 1 });
    lease.commit();
  }
}

describe('close() with usage Stigg has not taken', () => {
  it('without a logger or a listener: one process warning with the count of reports and units', async () => {
    const entitlements = rig.make({ usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 50 } });
    await fiveUnitsThenOutage(entitlements);
    await entitlements.close({ timeoutMs: 500 });
    expect(stiggWarnings()).toEqual([
      [expect.stringMatching(/^stigg-gate: 5 usage reports \(5 units\) not delivered/), 'STIGG_GATE_USAGE_UNDELIVERED'],
    ]);
    expect(rig.emulator.stats().usage['growth||' + TEMPLATES] ?? 0).toBe(0);
  });

  it('a listener of usage:undelivered hears it instead (no warning)', async () => {
    const entitlements = rig.make({ usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 50 } });
    const heard: PendingUsage[][] = [];
    entitlements.on('usage:undelivered', (reports) => heard.push(reports));
    await fiveUnitsThenOutage(entitlements);
    await entitlements.close({ timeoutMs: 500 });
    expect(heard.map((reports) => reports.length)).toEqual([5]);
    expect(stiggWarnings()).toEqual([]);
  });

  it('a logger hears it instead (no warning)', async () => {
    const errors: string[] = [];
    const logger = { warn: () => undefined, error: (_meta: unknown, message: string) => void errors.push(message) };
    const entitlements = rig.make({ logger, usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 50 } });
    await fiveUnitsThenOutage(entitlements);
    await entitlements.close({ timeoutMs: 500 });
    expect(errors.some((message) => message.includes('5 usage reports Stigg has not taken'))).toBe(true);
    expect(stiggWarnings()).toEqual([]);
  });
});

describe('a report Stigg refuses while it takes the others', () => {
  /** Stigg refuses any batch that holds a report of customer "refused" (as an unknown customer would be). */
  function refusing(delivered: number[]): EntitlementsUpstream {
    return {
      getEntitlement: () => Promise.reject(new Error('not used')),
      reportUsageBulk: ({ usages }) => {
        if (usages.some((usage) => usage.customerId === 'refused')) {
          return Promise.reject(
            new StiggGraphQLError('reportUsageBulk', 200, [{ message: 'Customer not found', extensions: { code: 'CustomerNotFound' } }]),
          );
        }
        for (const usage of usages) delivered.push(usage.value);
        return Promise.resolve([]);
      },
    };
  }

  it('without a logger or a listener: dropped, with one process warning for the reports refused together, naming the count', async () => {
    const delivered: number[] = [];
    const entitlements = createEntitlements({ client: refusing(delivered), usage: { flushIntervalMs: 60_000 } });
    await entitlements.report({ customerId: 'known', featureId: TEMPLATES, value: 1 });
    await entitlements.report({ customerId: 'refused', featureId: TEMPLATES, value: 2 });
    await entitlements.report({ customerId: 'refused', featureId: TEMPLATES, value: 8 });
    await entitlements.report({ customerId: 'known', featureId: TEMPLATES, value: 4 });
    await entitlements.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toEqual([1, 4]);
    expect(stiggWarnings()).toEqual([
      [expect.stringMatching(/^stigg-gate: 2 usage reports \(10 units\) dropped/), 'STIGG_GATE_USAGE_DROPPED'],
    ]);
  });

  it('a listener of usage:dropped gets the full report instead', async () => {
    const entitlements = createEntitlements({ client: refusing([]), usage: { flushIntervalMs: 60_000 } });
    const dropped: PendingUsage[] = [];
    entitlements.on('usage:dropped', (report) => dropped.push(report));
    await entitlements.report({ customerId: 'known', featureId: TEMPLATES, value: 1 });
    await entitlements.report({ customerId: 'refused', featureId: TEMPLATES, value: 2 });
    await entitlements.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(dropped).toMatchObject([{ customerId: 'refused', featureId: TEMPLATES, value: 2 }]);
    expect(stiggWarnings()).toEqual([]);
  });
});
