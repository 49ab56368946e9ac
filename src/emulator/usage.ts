import { randomUUID } from 'node:crypto';
import type { CatalogFeature } from './catalog-types';
import { ENVIRONMENT_ID } from './catalog-index';
import { effective, periodOf, readUsage } from './entitlements';
import { EmulatorError } from './errors';
import { iso } from './time';
import { EVENT_LIMIT, parseDate, remember, usageKey, type Json, type Maybe, type Store } from './store';

export interface UsageArgs {
  customerId: string;
  featureId: string;
  value: number;
  resourceId?: Maybe<string>;
  updateBehavior?: Maybe<'DELTA' | 'SET'>;
  createdAt?: Maybe<string>;
  idempotencyKey?: Maybe<string>;
  [key: string]: unknown;
}

function validateUsage(store: Store, u: UsageArgs): CatalogFeature {
  const customer = store.customer(u.customerId);
  const feature = store.feature(u.featureId);
  if (feature.featureType !== 'NUMBER' || (feature.meterType ?? 'None') === 'None') {
    throw new EmulatorError(
      'BadUserInput',
      `Feature ${feature.id} is not metered: usage can only be reported for NUMBER features with meterType Fluctuating or Incremental`,
      feature.id,
    );
  }
  if (!Number.isFinite(u.value)) throw new EmulatorError('BadUserInput', `value must be a finite number, got ${u.value}`);
  const resourceId = u.resourceId ?? null;
  if (resourceId !== null && !customer.subscriptions.some((s) => s.resourceId === resourceId)) {
    throw new EmulatorError('ResourceNotFound', `Resource not found: ${resourceId}`, resourceId);
  }
  parseDate(u.createdAt, 'createdAt');
  return feature;
}

/** Applies one report; a report whose idempotencyKey was seen answers the first answer again and changes nothing. */
function applyUsage(store: Store, u: UsageArgs, now: number): Json {
  if (u.idempotencyKey !== null && u.idempotencyKey !== undefined) {
    const previous = store.usageReplays.get(u.idempotencyKey);
    if (previous !== undefined) return previous;
  }
  const resourceId = u.resourceId ?? null;
  const period = periodOf(effective(store, u.customerId, u.featureId, resourceId, now), now);
  const key = usageKey(u.customerId, resourceId, u.featureId);
  readUsage(store, u.customerId, resourceId, u.featureId, period);
  let record = store.usage.get(key);
  if (record === undefined) {
    record = { value: 0, periodStart: period?.start ?? null, updatedAt: now };
    store.usage.set(key, record);
  }
  record.updatedAt = now;
  if (u.updateBehavior === 'SET') {
    record.value = u.value;
  } else {
    record.value += u.value;
    const totals = store.stats.usage;
    totals[key] = (totals[key] ?? 0) + u.value;
  }
  const result = {
    id: randomUUID(),
    customerId: u.customerId,
    resourceId,
    featureId: u.featureId,
    value: u.value,
    currentUsage: record.value,
    usagePeriodStart: period === null ? null : iso(period.start),
    usagePeriodEnd: period === null ? null : iso(period.end),
    nextResetDate: period === null ? null : iso(period.end),
    timestamp: iso(parseDate(u.createdAt, 'createdAt') ?? now),
    createdAt: iso(now),
    environmentId: ENVIRONMENT_ID,
    credit: null,
  };
  if (u.idempotencyKey !== null && u.idempotencyKey !== undefined) remember(store.usageReplays, u.idempotencyKey, result);
  return result;
}

export function reportUsage(store: Store, input: UsageArgs): Json {
  validateUsage(store, input);
  return applyUsage(store, input, store.clock.now());
}

/** All reports are validated before any is applied: one bad report fails the batch and changes nothing. */
export function reportUsageBulk(store: Store, input: { usages: UsageArgs[] }): Json[] {
  for (const u of input.usages) validateUsage(store, u);
  const now = store.clock.now();
  return input.usages.map((u) => applyUsage(store, u, now));
}

/** Raw events: deduplicated by idempotencyKey; each counts one unit toward the features metering its eventName. */
export function reportEvent(
  store: Store,
  events: {
    usageEvents: Array<{
      customerId: string;
      eventName: string;
      idempotencyKey: string;
      resourceId?: Maybe<string>;
      dimensions?: unknown;
      timestamp?: Maybe<string>;
    }>;
  },
): null {
  for (const e of events.usageEvents) parseDate(e.timestamp, 'timestamp');
  const now = store.clock.now();
  for (const e of events.usageEvents) {
    if (store.eventKeys.has(e.idempotencyKey)) continue;
    remember(store.eventKeys, e.idempotencyKey, true);
    const resourceId = e.resourceId ?? null;
    if (store.events.length >= EVENT_LIMIT) store.events.splice(0, EVENT_LIMIT / 10);
    store.events.push({
      customerId: e.customerId,
      eventName: e.eventName,
      idempotencyKey: e.idempotencyKey,
      resourceId,
      dimensions: (e.dimensions as Record<string, unknown> | null | undefined) ?? null,
      timestamp: iso(parseDate(e.timestamp, 'timestamp') ?? now),
    });
    const customer = store.customers.get(e.customerId);
    if (customer === undefined || customer.archived) continue;
    for (const feature of store.eventFeatures.get(e.eventName) ?? []) {
      applyUsage(store, { customerId: e.customerId, featureId: feature.id, resourceId, value: 1 }, now);
    }
  }
  return null;
}
