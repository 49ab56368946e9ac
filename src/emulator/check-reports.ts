import { randomUUID } from 'node:crypto';
import { ACTIVE_STATUSES, planOf, statusOf } from './lifecycle';
import type { Json, Maybe, Store } from './store';
import { iso } from './time';

/** A check as `reportEntitlementCheckRequested` takes it (Stigg's EntitlementCheckRequested input). */
export interface CheckReportInput {
  customerId: string;
  featureId: string;
  resourceId?: Maybe<string>;
  environmentId?: Maybe<string>;
  requestedUsage?: Maybe<number>;
  requestedValues?: Maybe<string[]>;
  entitlementCheckResult: {
    hasAccess: boolean;
    accessDeniedReason?: Maybe<string>;
    currentUsage?: Maybe<number>;
    usageLimit?: Maybe<number>;
    hasUnlimitedUsage?: Maybe<boolean>;
    hasSoftLimit?: Maybe<boolean>;
    requestedUsage?: Maybe<number>;
    requestedValues?: Maybe<string[]>;
    enumValues?: Maybe<string[]>;
    nextResetDate?: Maybe<string>;
    resetPeriod?: Maybe<string>;
    [more: string]: unknown;
  };
}

/** A check report the emulator took, with the request (HTTP call) it came in and when. */
export interface RecordedCheckReport {
  readonly check: CheckReportInput;
  /** The POST /graphql it came in (stats().requests at that time): reports of one batched call share it. */
  readonly request: number;
  readonly receivedAt: string;
}

const REPORT_LIMIT = 100_000;

/**
 * `reportEntitlementCheckRequested`: records the check (the newest 100,000), counts the HTTP calls
 * that carried any (a batched document of aliased fields is one call), and hands it to the webhook
 * sender (entitlement.requested, then entitlement.granted or entitlement.denied). Answers true.
 */
export function reportEntitlementCheckRequested(store: Store, check: CheckReportInput, request: number): boolean {
  const stats = store.stats.checkReports;
  if (store.checkReportRequest !== request) {
    store.checkReportRequest = request;
    stats.calls += 1;
  }
  stats.reports += 1;
  if (check.entitlementCheckResult.hasAccess) stats.granted += 1;
  else stats.denied += 1;
  if (store.checkReports.length >= REPORT_LIMIT) store.checkReports.splice(0, REPORT_LIMIT / 10);
  const recorded: RecordedCheckReport = { check, request, receivedAt: iso(store.clock.now()) };
  store.checkReports.push(recorded);
  store.onCheckReport?.(recorded);
  return true;
}

function featureOf(store: Store, featureId: string): Json {
  const feature = store.features.get(featureId)?.def;
  if (feature === undefined)
    return { id: featureId, name: null, unit: null, units: null, description: null, featureType: null, meterType: null, status: null };
  const meterType =
    feature.featureType === 'NUMBER' && (feature.meterType ?? 'None') !== 'None' ? (feature.meterType ?? '').toUpperCase() : null;
  return {
    id: feature.id,
    name: feature.displayName ?? feature.id,
    unit: feature.featureUnits ?? null,
    units: feature.featureUnitsPlural ?? null,
    description: feature.description ?? null,
    featureType: feature.featureType,
    meterType,
    status: 'ACTIVE',
  };
}

function customerOf(store: Store, customerId: string): Json {
  const customer = store.customers.get(customerId);
  return { id: customerId, name: customer?.name ?? null, email: customer?.email ?? null, billingId: customer?.billingId ?? null };
}

function activeSubscriptionsOf(store: Store, customerId: string, resourceId: string | null, now: number): Json[] {
  const customer = store.customers.get(customerId);
  if (customer === undefined) return [];
  return customer.subscriptions
    .filter((sub) => sub.resourceId === resourceId && ACTIVE_STATUSES.has(statusOf(store, sub, now)))
    .map((sub) => {
      const plan = planOf(store, sub, now).def;
      return {
        id: sub.refId,
        plan: { id: plan.id, name: plan.displayName ?? plan.id, description: plan.description ?? null, status: 'PUBLISHED' },
        addons: sub.addons.map(({ addonId, quantity }) => {
          const addon = store.addons.get(addonId)?.def;
          return {
            id: addonId,
            name: addon?.displayName ?? addonId,
            description: addon?.description ?? null,
            status: 'PUBLISHED',
            quantity,
          };
        }),
      };
    });
}

/**
 * The webhooks Stigg sends for one reported check, as its webhook reference documents them:
 * `entitlement.requested` (the check was reported), then `entitlement.granted` or
 * `entitlement.denied` with the figures the app decided on (and, when denied, `accessDeniedReason`).
 */
export function checkReportBodies(store: Store, { check }: RecordedCheckReport): Json[] {
  const now = store.clock.now();
  const resourceId = check.resourceId ?? null;
  const result = check.entitlementCheckResult;
  const requestedUsage = check.requestedUsage ?? result.requestedUsage ?? null;
  const traceId = randomUUID();
  const common = (): Json => ({
    messageId: randomUUID(),
    traceId,
    timestamp: iso(now),
    feature: featureOf(store, check.featureId),
    customer: customerOf(store, check.customerId),
    resource: resourceId === null ? null : { id: resourceId },
    activeSubscriptions: activeSubscriptionsOf(store, check.customerId, resourceId, now),
  });
  const outcome: Json = {
    type: result.hasAccess ? 'entitlement.granted' : 'entitlement.denied',
    ...common(),
    usageLimit: result.usageLimit ?? null,
    hasUnlimitedUsage: result.hasUnlimitedUsage ?? false,
    hasSoftLimit: result.hasSoftLimit ?? false,
    requestedUsage,
    currentUsage: result.currentUsage ?? null,
    nextResetDate: result.nextResetDate ?? null,
    resetPeriod: result.resetPeriod ?? null,
    resetPeriodConfiguration: null,
  };
  if (!result.hasAccess) outcome.accessDeniedReason = result.accessDeniedReason ?? 'Unknown';
  return [{ type: 'entitlement.requested', ...common(), requestedUsage }, outcome];
}
