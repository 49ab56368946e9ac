import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type CatalogCustomer, type Emulator } from '../../src/emulator';

export const TEMPLATES = 'feature-01-templates';
export const CAMPAIGNS = 'feature-02-campaigns';
export const CUSTOM_DOMAIN = 'feature-03-custom-domain';
export const ANALYTICS = 'feature-04-analytics';

/** basic: templates 3, campaigns 4/month; essentials: templates 10, custom domain; growth: everything. */
export const customers: CatalogCustomer[] = [
  { id: 'c-basic', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
  { id: 'c-basic-2', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
  { id: 'c-essentials', subscriptions: [{ planId: 'plan-revvenu-essentials' }] },
  { id: 'c-five-left', subscriptions: [{ planId: 'plan-revvenu-essentials' }], usage: [{ featureId: TEMPLATES, value: 5 }] },
  { id: 'c-growth', subscriptions: [{ planId: 'plan-revvenu-growth' }] },
  { id: 'c-sites', subscriptions: [{ planId: 'plan-revvenu-basic', resourceId: 'site-1' }] },
];

export interface Rig {
  emulator: Emulator;
  client: StiggClient;
  /** Fresh per test (nothing cached); closed by next(). */
  entitlements: Entitlements;
  /** Units the emulator applied through reportUsage/reportUsageBulk, after flushing. */
  reported(customerId: string, featureId: string, resourceId?: string): Promise<number>;
  next(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRig(): Promise<Rig> {
  const emulator = await startEmulator({ port: 0, catalog: { ...defaultCatalog, customers } });
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0, timeoutMs: 10_000 });
  const make = (): Entitlements => createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const rig: Rig = {
    emulator,
    client,
    entitlements: make(),
    async reported(customerId, featureId, resourceId = '') {
      await rig.entitlements.flush();
      return emulator.stats().usage[`${customerId}|${resourceId}|${featureId}`] ?? 0;
    },
    async next() {
      await rig.entitlements.close();
      emulator.setFaults({ latencyMs: 0, failureRate: 0 });
      emulator.reset();
      rig.entitlements = make();
    },
    async stop() {
      await rig.entitlements.close();
      await emulator.stop();
    },
  };
  return rig;
}
