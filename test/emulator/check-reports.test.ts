import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StiggClient } from '../../src/client';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';

// reportEntitlementCheckRequested at the emulator: each check is recorded and counted (a batched
// document is one call), and Stigg's webhooks follow: entitlement.requested, then
// entitlement.denied (with accessDeniedReason) or entitlement.granted.
const received: Array<{ headers: IncomingHttpHeaders; body: Record<string, any> }> = [];
const server = createServer((req, res) => {
  let text = '';
  req.on('data', (chunk: Buffer) => (text += chunk.toString()));
  req.on('end', () => {
    received.push({ headers: req.headers, body: JSON.parse(text) as Record<string, any> });
    res.writeHead(200).end();
  });
});
let emulator: Emulator;
let client: StiggClient;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  emulator = await startEmulator({
    catalog: {
      ...defaultCatalog,
      customers: [
        {
          id: 'acme',
          name: 'Acme',
          email: 'ops@acme.test',
          subscriptions: [{ planId: 'plan-revvenu-growth', id: 'sub-acme', addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }] }],
        },
      ],
    },
    webhooks: { url: `http://127.0.0.1:${port}/stigg/webhooks`, secret: 'whsec-local' },
  });
  client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
});
afterAll(async () => {
  await emulator.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const denied = {
  customerId: 'acme',
  featureId: 'feature-02-campaigns',
  requestedUsage: 5,
  entitlementCheckResult: {
    hasAccess: false,
    accessDeniedReason: 'RequestedUsageExceedingLimit' as const,
    usageLimit: 40,
    currentUsage: 38,
    requestedUsage: 5,
    nextResetDate: '2027-01-01T00:00:00.000Z',
  },
};
const granted = { customerId: 'nobody', featureId: 'feature-nope', entitlementCheckResult: { hasAccess: true, hasUnlimitedUsage: true } };

test('a batch of two checks: one call, two records, and the webhooks Stigg sends for each', async () => {
  await expect(client.reportEntitlementCheckRequested([denied, granted])).resolves.toBe(true);
  expect(emulator.stats().checkReports).toEqual({ calls: 1, reports: 2, granted: 1, denied: 1 });
  expect(emulator.stats().operations['reportEntitlementCheckRequested']).toBe(2);
  expect(emulator.state.checkReports.map((r) => [r.check.customerId, r.request])).toEqual([
    ['acme', 1],
    ['nobody', 1],
  ]);

  await emulator.webhooksSettled();
  expect(received.map((r) => r.body.type)).toEqual([
    'entitlement.requested',
    'entitlement.denied',
    'entitlement.requested',
    'entitlement.granted',
  ]);
  expect(received.every((r) => r.headers['stigg-webhooks-secret'] === 'whsec-local')).toBe(true);
  const [requested, deniedBody, , grantedBody] = received.map((r) => r.body);
  expect(requested).toMatchObject({ customer: { id: 'acme' }, feature: { id: 'feature-02-campaigns' }, requestedUsage: 5 });
  expect(deniedBody).toMatchObject({
    type: 'entitlement.denied',
    customer: { id: 'acme', name: 'Acme', email: 'ops@acme.test' },
    resource: null,
    feature: { id: 'feature-02-campaigns', featureType: 'NUMBER', meterType: 'INCREMENTAL', status: 'ACTIVE' },
    activeSubscriptions: [
      { id: 'sub-acme', plan: { id: 'plan-revvenu-growth', status: 'PUBLISHED' }, addons: [{ id: 'addon-10-campaigns', quantity: 2 }] },
    ],
    usageLimit: 40,
    currentUsage: 38,
    requestedUsage: 5,
    hasUnlimitedUsage: false,
    hasSoftLimit: false,
    nextResetDate: '2027-01-01T00:00:00.000Z',
    accessDeniedReason: 'RequestedUsageExceedingLimit',
  });
  expect(typeof deniedBody?.messageId).toBe('string');
  expect(deniedBody?.traceId).toBe(requested?.traceId);
  // An unknown customer and feature are named by their ids; a grant has no accessDeniedReason.
  expect(grantedBody).toMatchObject({
    customer: { id: 'nobody', name: null },
    feature: { id: 'feature-nope', featureType: null },
    activeSubscriptions: [],
    hasUnlimitedUsage: true,
  });
  expect(grantedBody).not.toHaveProperty('accessDeniedReason');
});

test('separate calls count separately; reset() forgets them', async () => {
  emulator.reset();
  await client.reportEntitlementCheckRequested(denied);
  await client.reportEntitlementCheckRequested([granted, granted, granted]);
  expect(emulator.stats().checkReports).toEqual({ calls: 2, reports: 4, granted: 3, denied: 1 });
  emulator.reset();
  expect(emulator.stats().checkReports).toEqual({ calls: 0, reports: 0, granted: 0, denied: 0 });
  expect(emulator.state.checkReports).toHaveLength(0);
});
