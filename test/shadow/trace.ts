import { defaultCatalog, type Catalog } from '../../src/emulator';
import { random } from '../support/time';

// A recorded trace of gated requests (a seeded generator: the same trace on every run), replayed in
// enforce mode and in shadow mode. Several customers cross their limits (templates, campaigns),
// ask for features their plan lacks, for ENUM values they are not entitled to, past a soft limit,
// with no subscription, unknown to Stigg, and for a feature Stigg does not know.

export const TEMPLATES = 'feature-01-templates';
export const CAMPAIGNS = 'feature-02-campaigns';
export const CUSTOM_DOMAIN = 'feature-03-custom-domain';
export const ANALYTICS = 'feature-04-analytics';
export const MODEL = 'feature-09-model';
export const SEATS = 'feature-07-seats';
export const MISSING = 'feature-99-missing';

export const traceCatalog: Catalog = {
  ...defaultCatalog,
  features: [
    ...defaultCatalog.features,
    { id: MODEL, featureType: 'ENUM', enumValues: ['small', 'large', 'gpt-4o'] },
    { id: SEATS, featureType: 'NUMBER', meterType: 'Incremental' },
  ],
  plans: [
    ...defaultCatalog.plans,
    {
      id: 'plan-trace-basic',
      productId: 'product-revvenu',
      pricingType: 'FREE',
      entitlements: [
        { featureId: TEMPLATES, usageLimit: 40 },
        { featureId: CAMPAIGNS, usageLimit: 60, resetPeriod: 'MONTH' },
        { featureId: MODEL, enumValues: ['small'] },
        { featureId: SEATS, usageLimit: 30, hasSoftLimit: true },
      ],
    },
    {
      id: 'plan-trace-pro',
      productId: 'product-revvenu',
      pricingType: 'FREE',
      entitlements: [
        { featureId: TEMPLATES, usageLimit: 150 },
        { featureId: CAMPAIGNS, usageLimit: 300, resetPeriod: 'MONTH' },
        { featureId: CUSTOM_DOMAIN },
        { featureId: ANALYTICS },
        { featureId: MODEL, enumValues: ['small', 'large'] },
        { featureId: SEATS, usageLimit: 100, hasSoftLimit: true },
      ],
    },
  ],
  customers: [
    { id: 'basic-1', subscriptions: [{ planId: 'plan-trace-basic' }] },
    { id: 'basic-2', subscriptions: [{ planId: 'plan-trace-basic' }] },
    { id: 'basic-near', subscriptions: [{ planId: 'plan-trace-basic' }], usage: [{ featureId: TEMPLATES, value: 35 }] },
    { id: 'pro-1', subscriptions: [{ planId: 'plan-trace-pro' }] },
    { id: 'no-plan' },
  ],
};

/** The customers of the trace and their share of it; 'ghost' is unknown to Stigg (CustomerNotFound). */
const CUSTOMERS: ReadonlyArray<readonly [string, number]> = [
  ['basic-1', 25],
  ['basic-2', 20],
  ['basic-near', 15],
  ['pro-1', 30],
  ['no-plan', 5],
  ['ghost', 5],
];

export type Kind = 'templates' | 'campaigns' | 'custom-domain' | 'analytics' | 'model' | 'seats' | 'missing';

export interface TraceRequest {
  readonly customerId: string;
  readonly kind: Kind;
  readonly featureId: string;
  /** Units asked (metered kinds), else undefined. */
  readonly usage: number | undefined;
  /** ENUM values asked ('model'), else undefined. */
  readonly values: readonly string[] | undefined;
}

const KINDS: ReadonlyArray<readonly [Kind, number]> = [
  ['templates', 30],
  ['campaigns', 30],
  ['custom-domain', 10],
  ['analytics', 10],
  ['model', 20],
  ['seats', 10],
  ['missing', 2],
];
const FEATURE: Record<Kind, string> = {
  templates: TEMPLATES,
  campaigns: CAMPAIGNS,
  'custom-domain': CUSTOM_DOMAIN,
  analytics: ANALYTICS,
  model: MODEL,
  seats: SEATS,
  missing: MISSING,
};
const MODELS = ['small', 'large', 'gpt-4o'];

function pick<T>(next: () => number, weighted: ReadonlyArray<readonly [T, number]>): T {
  const sum = weighted.reduce((total, [, weight]) => total + weight, 0);
  let at = next() * sum;
  for (const [value, weight] of weighted) {
    at -= weight;
    if (at < 0) return value;
  }
  return (weighted[weighted.length - 1] as readonly [T, number])[0];
}

/**
 * `size` requests. `variableUsage`: campaigns ask 1 to 5 units per request; otherwise each customer
 * always asks the same (2, or 3 for pro-1), so a unit reported past the limit never changes which
 * later request enforcement would refuse (see docs/shadow.md on shadowUsage).
 */
export function makeTrace(size: number, options: { seed?: number; variableUsage?: boolean } = {}): TraceRequest[] {
  const next = random(options.seed ?? 27);
  const trace: TraceRequest[] = [];
  for (let i = 0; i < size; i += 1) {
    const customerId = pick(next, CUSTOMERS);
    const kind = pick(next, KINDS);
    const draw = next();
    let usage: number | undefined;
    if (kind === 'templates' || kind === 'seats') usage = 1;
    else if (kind === 'campaigns') usage = options.variableUsage === true ? 1 + Math.floor(draw * 5) : customerId === 'pro-1' ? 3 : 2;
    const values = kind === 'model' ? [MODELS[Math.floor(draw * MODELS.length)] as string] : undefined;
    trace.push({ customerId, kind, featureId: FEATURE[kind], usage, values });
  }
  return trace;
}

/** What one replayed request came to: served or not, and the reason enforcement gave or would give. */
export interface Result {
  readonly served: boolean;
  /** The denial's reason (enforce), the would-be denial's reason (shadow), else null. */
  readonly reason: string | null;
}

/**
 * Replays `trace`: each customer's requests in order, one at a time (so every decision is exact),
 * the customers side by side, `lanes` at most at once.
 */
export async function replay(trace: readonly TraceRequest[], send: (request: TraceRequest) => Promise<Result>): Promise<Result[]> {
  const results: Result[] = new Array<Result>(trace.length);
  const byCustomer = new Map<string, number[]>();
  trace.forEach((request, index) => {
    const list = byCustomer.get(request.customerId) ?? [];
    list.push(index);
    byCustomer.set(request.customerId, list);
  });
  await Promise.all(
    [...byCustomer.values()].map(async (indexes) => {
      for (const index of indexes) results[index] = await send(trace[index] as TraceRequest);
    }),
  );
  return results;
}

/** Denials (not served) per reason. */
export function denials(results: readonly Result[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) if (!result.served) counts[result.reason ?? 'none'] = (counts[result.reason ?? 'none'] ?? 0) + 1;
  return counts;
}

/** Served requests that carry a would-be denial, per reason. */
export function wouldDeny(results: readonly Result[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) if (result.served && result.reason !== null) counts[result.reason] = (counts[result.reason] ?? 0) + 1;
  return counts;
}

export function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}
