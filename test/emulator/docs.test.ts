import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCatalog, demoCustomers, EmulatorState, loadCatalogFile, startEmulator } from '../../src/emulator';
import { catalogSummary } from '../../src/emulator/catalog-summary';
import { loadSchema, modelledRootFields, rootFields } from '../../src/emulator/schema';

const root = join(__dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'emulator.md'), 'utf8');

describe('docs/emulator.md says what the emulator does', () => {
  const state = new EmulatorState(defaultCatalog, { now: Date.now, set: () => undefined, advance: () => undefined });
  const modelled = Object.keys(modelledRootFields(state));

  it('lists every root field answered NOT_MODELLED, and only those', () => {
    const section = doc.slice(doc.indexOf('Today that is:'), doc.indexOf('Run Stigg'));
    const listed = [...section.matchAll(/`([a-zA-Z0-9]+)`/g)].map((m) => m[1]).sort();
    const notModelled = rootFields(loadSchema())
      .filter((f) => !modelled.includes(f))
      .sort();
    expect(listed).toEqual(notModelled);
  });

  it('names every modelled root field in its table', () => {
    const table = doc.slice(doc.indexOf('| Domain | Root fields |'), doc.indexOf('Every other root field'));
    for (const field of modelled) expect(table).toContain(`\`${field}`);
  });
});

describe('examples/emulator-catalog.json (the documented example catalog)', () => {
  it('validates, uses every section of the format, and serves its customers', async () => {
    const file = join(root, 'examples', 'emulator-catalog.json');
    const catalog = loadCatalogFile(file);
    expect(Object.keys(catalog).sort()).toEqual([
      'addons',
      'coupons',
      'currencies',
      'currency',
      'customers',
      'features',
      'paidPlansRequirePaymentMethod',
      'plans',
      'products',
    ]);
    const emulator = await startEmulator({ catalog: file });
    try {
      const state = emulator.state;
      expect(
        state.entitlement({
          customerId: 'customer-free',
          featureId: 'feature-01-templates',
          options: { requestedUsage: 1 },
        }),
      ).toMatchObject({ isGranted: true, currentUsage: 2, usageLimit: 3 });
      expect(state.entitlement({ customerId: 'customer-paid', featureId: 'feature-02-campaigns' })).toMatchObject({
        isGranted: true,
        usageLimit: 40,
      });
      expect(state.entitlement({ customerId: 'customer-paid', featureId: 'feature-04-analytics' })).toMatchObject({
        isGranted: true,
      });
      expect(state.creditBalance('customer-paid', 'cred-ai-tokens')).toMatchObject({ totalGranted: 5500, currentBalance: 5500 });
      expect(state.getSubscription({ subscriptionId: 'subscription-paid-essentials' })).toMatchObject({
        status: 'ACTIVE',
        totalPrice: { subTotal: { amount: 70 }, total: { amount: 56 } },
      });
      expect(
        state.entitlement({
          customerId: 'customer-workspaces',
          featureId: 'feature-05-seats',
          resourceId: 'workspace-2',
        }),
      ).toMatchObject({ isGranted: true, usageLimit: 20 });
    } finally {
      await emulator.stop();
    }
  });
});

describe('docs/demo-catalog.md (the demo catalog, as the CLI banner lists it)', () => {
  const page = readFileSync(join(root, 'docs', 'demo-catalog.md'), 'utf8');

  it("lists exactly what the banner lists for --demo (the code's catalog and demo customers)", () => {
    const block = /```text\n([\s\S]*?)```/.exec(page)?.[1];
    expect(block).toBe(catalogSummary({ ...defaultCatalog, customers: demoCustomers }));
  });

  it('says true things in "What to try"', async () => {
    const emulator = await startEmulator({ catalog: { ...defaultCatalog, customers: demoCustomers } });
    try {
      const state = emulator.state;
      const check = (customerId: string, featureId: string, requestedUsage = 0) =>
        state.entitlement({ customerId, featureId, options: { requestedUsage } });
      expect(check('demo-basic', 'feature-02-campaigns', 5)).toMatchObject({
        isGranted: false,
        accessDeniedReason: 'RequestedUsageExceedingLimit',
      });
      expect(check('demo-essentials', 'feature-02-campaigns', 3)).toMatchObject({ isGranted: false, currentUsage: 18, usageLimit: 20 });
      expect(check('demo-basic', 'feature-04-analytics')).toMatchObject({ accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
      expect(check('demo-promoted', 'feature-04-analytics')).toMatchObject({ isGranted: true });
      expect(check('demo-growth', 'feature-02-campaigns')).toMatchObject({ usageLimit: 110 });
    } finally {
      await emulator.stop();
    }
  });
});
