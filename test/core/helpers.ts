import { StiggClient, StiggGraphQLError } from '../../src/client';
import { createEntitlements, type EntitlementsOptions } from '../../src/core/entitlements';
import type { Entitlements, EntitlementsUpstream } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog, type CatalogCustomer, type Emulator } from '../../src/emulator';

export const TEMPLATES = 'feature-01-templates';
export const CAMPAIGNS = 'feature-02-campaigns';
export const CUSTOM_DOMAIN = 'feature-03-custom-domain';
export const ANALYTICS = 'feature-04-analytics';

export function customer(id: string, planId: string, extra: Partial<CatalogCustomer> = {}): CatalogCustomer {
  return { id, subscriptions: [{ planId }], ...extra };
}

export function catalogWith(customers: CatalogCustomer[]): Catalog {
  return { ...defaultCatalog, customers };
}

export interface Rig {
  emulator: Emulator;
  client: StiggClient;
  make(options?: Omit<EntitlementsOptions, 'client'>): Entitlements;
  stop(): Promise<void>;
}

/** An emulator on a free port, the real client over HTTP, and entitlements that are closed at stop(). */
export async function startRig(
  customers: CatalogCustomer[],
  emulatorOptions: { latencyMs?: number; failureRate?: number; seed?: number; now?: () => number } = {},
  clientOptions: { timeoutMs?: number; maxRetries?: number; retryBaseDelayMs?: number } = {},
): Promise<Rig> {
  const emulator = await startEmulator({ port: 0, catalog: catalogWith(customers), ...emulatorOptions });
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, ...clientOptions });
  const made: Entitlements[] = [];
  return {
    emulator,
    client,
    make(options = {}) {
      const entitlements = createEntitlements({ client, ...options });
      made.push(entitlements);
      return entitlements;
    },
    async stop() {
      emulator.setFaults({ latencyMs: 0, failureRate: 0 });
      await Promise.all(made.map((entitlements) => entitlements.close()));
      await emulator.stop();
    },
  };
}

export function usageKey(customerId: string, featureId: string, resourceId = ''): string {
  return `${customerId}|${resourceId}|${featureId}`;
}

/** Reads the engine made to decide (a customer's set, or one feature), as the emulator counted them. */
export function entitlementReads(emulator: { stats(): { operations: Record<string, number> } }): number {
  const { operations } = emulator.stats();
  return (operations['entitlement'] ?? 0) + (operations['entitlementsState'] ?? 0);
}

type Bulk = EntitlementsUpstream['reportUsageBulk'];

/** The rig's client, its usage reports passed through `hook` (which sends them with send(), or answers itself). */
export function reportsThrough(
  rig: Pick<Rig, 'client'>,
  hook: (input: Parameters<Bulk>[0], send: () => ReturnType<Bulk>) => ReturnType<Bulk>,
): EntitlementsUpstream {
  return {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) => hook(input, () => rig.client.reportUsageBulk(input)),
  };
}

/** The engines a suite opens (pushed here), closed after each test. */
export function closedAfterEach(options?: { timeoutMs?: number }): Entitlements[] {
  const opened: Entitlements[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((entitlements) => entitlements.close(options)));
  });
  return opened;
}

/** Stigg refusing a usage report as bad input (GraphQL BAD_USER_INPUT, HTTP 200). */
export const badUserInput = (): StiggGraphQLError =>
  new StiggGraphQLError('reportUsageBulk', 200, [
    { message: 'Variable "$input" got invalid value', extensions: { code: 'BAD_USER_INPUT' } },
  ]);
