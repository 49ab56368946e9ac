import type { DeniedReason } from '../core';
import { describeValue } from '../util/describe-value';
import { isPlainObject } from '../util/plain-object';
import { rejectUnknownOptions } from '../util/unknown-options';

/** How often a metered feature's usage starts again at 0 (from the kit's start time, UTC calendar). */
export type ResetPeriod = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';

/**
 * One feature of one customer, in the app's words:
 * - `true`: an on/off feature the customer has; `false`: a feature the plan does not include
 *   (NoFeatureEntitlementInSubscription).
 * - `{ limit, used?, soft?, reset? }`: a metered feature; `soft: true` grants past the limit (overage).
 * - `'unlimited'` or `{ unlimited: true, used? }`: a metered feature without a limit.
 * - `{ values: [...] }`: an enum feature and the values the customer is entitled to.
 * - `{ denied: 'Revoked' }`: Stigg answers this reason whatever is asked (any AccessDeniedReason).
 */
export type FeatureFixture =
  | boolean
  | 'unlimited'
  | { limit: number; used?: number; soft?: boolean; reset?: ResetPeriod }
  | { unlimited: true; used?: number; reset?: ResetPeriod }
  | { values: readonly string[] }
  | { denied: DeniedReason };

/** A customer's features by feature id, or the customer's standing with Stigg as a whole. */
export type CustomerFixture = Readonly<Record<string, FeatureFixture>> | 'archived' | 'no-subscription';

/** Customers by id. A customer not listed is unknown to Stigg (CustomerNotFound). */
export type CustomerFixtures = Readonly<Record<string, CustomerFixture>>;

/** Resource-scoped features: customer id → resource id → features. A resource not listed is CustomerResourceNotFound. */
export type ResourceFixtures = Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, FeatureFixture>>>>>>;

/** A fixture entry after validation: one shape for the fake to answer from. */
export type Entry =
  | { readonly kind: 'boolean' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'denied'; readonly reason: DeniedReason }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | {
      readonly kind: 'metered';
      readonly limit: number | null;
      readonly soft: boolean;
      readonly used: number | undefined;
      readonly reset: ResetPeriod | null;
    };

export type Standing = 'active' | 'archived' | 'no-subscription';

/** One layer of fixtures (the base, or an override): standing and entries per customer and resource. */
export interface Layer {
  /** customerId → standing, for the customers this layer names. */
  readonly standing: ReadonlyMap<string, Standing>;
  /** scope key (customer and resource) → featureId → entry. */
  readonly entries: ReadonlyMap<string, ReadonlyMap<string, Entry>>;
  /** When the layer was put on (ms since epoch): its `used` counts in that usage period only. */
  readonly createdAt: number;
}

const RESET_PERIODS: readonly ResetPeriod[] = ['HOUR', 'DAY', 'WEEK', 'MONTH', 'YEAR'];
const SEPARATOR = '\u001f';
const EXAMPLE =
  "e.g. { 'cust-basic': { 'feature-01-templates': { limit: 3, used: 1 }, 'feature-04-analytics': false, 'feature-09-model': { values: ['small'] } } }";

/** The scope key of a customer's features, or of one of its resources'. */
export function scopeOf(customerId: string, resourceId: string | null | undefined): string {
  return customerId + SEPARATOR + (resourceId ?? '');
}

function usage(where: string, name: string, value: unknown, optional: boolean): number | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${describeValue(value)} is not a valid value for ${where}.${name}. Please choose a finite number >= 0.`);
  }
  return value;
}

function reset(where: string, value: unknown): ResetPeriod | null {
  if (value === undefined) return null;
  if (!RESET_PERIODS.includes(value as ResetPeriod)) {
    throw new TypeError(
      `${describeValue(value)} is not a valid value for ${where}.reset. Please choose one of ${RESET_PERIODS.join(', ')}.`,
    );
  }
  return value as ResetPeriod;
}

function entryOf(where: string, fixture: unknown): Entry {
  if (fixture === true) return { kind: 'boolean' };
  if (fixture === false) return { kind: 'absent' };
  if (fixture === 'unlimited') return { kind: 'metered', limit: null, soft: false, used: undefined, reset: null };
  if (!isPlainObject(fixture)) {
    throw new TypeError(
      `${describeValue(fixture)} is not a valid value for ${where}. Please choose true, false, 'unlimited', { limit, used?, soft?, reset? }, { unlimited: true }, { values: [...] } or { denied: reason }.`,
    );
  }
  if ('values' in fixture) {
    rejectUnknownOptions(fixture, ['values'], where);
    const values = fixture['values'];
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) {
      throw new TypeError(`${where}.values must be an array of strings, e.g. { values: ['small', 'medium'] }.`);
    }
    return { kind: 'enum', values: Object.freeze([...values]) };
  }
  if ('denied' in fixture) {
    rejectUnknownOptions(fixture, ['denied'], where);
    const reason = fixture['denied'];
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new TypeError(`${where}.denied must be a reason Stigg gives, e.g. { denied: 'Revoked' }.`);
    }
    return { kind: 'denied', reason };
  }
  if ('unlimited' in fixture) {
    rejectUnknownOptions(fixture, ['unlimited', 'used', 'reset'], where);
    if (fixture['unlimited'] !== true) throw new TypeError(`${where}.unlimited must be true; for a limit write { limit: 10 }.`);
    return {
      kind: 'metered',
      limit: null,
      soft: false,
      used: usage(where, 'used', fixture['used'], true),
      reset: reset(where, fixture['reset']),
    };
  }
  rejectUnknownOptions(fixture, ['limit', 'used', 'soft', 'reset'], where);
  const limit = usage(where, 'limit', fixture['limit'], false) as number;
  const soft = fixture['soft'] ?? false;
  if (typeof soft !== 'boolean')
    throw new TypeError(`${describeValue(soft)} is not a valid value for ${where}.soft. Please choose true or false.`);
  return { kind: 'metered', limit, soft, used: usage(where, 'used', fixture['used'], true), reset: reset(where, fixture['reset']) };
}

function featuresOf(where: string, features: unknown): Map<string, Entry> {
  if (!isPlainObject(features)) throw new TypeError(`${where} must map feature ids to fixtures, ${EXAMPLE}.`);
  const entries = new Map<string, Entry>();
  for (const [featureId, fixture] of Object.entries(features)) entries.set(featureId, entryOf(`${where}["${featureId}"]`, fixture));
  return entries;
}

/** Validates fixtures (TypeError with a fix-it) into a layer. `where`: the call, for messages. */
export function layerOf(where: string, customers: unknown, resources: unknown, createdAt: number): Layer {
  if (!isPlainObject(customers)) throw new TypeError(`${where} customers must map customer ids to their features, ${EXAMPLE}.`);
  const standing = new Map<string, Standing>();
  const entries = new Map<string, Map<string, Entry>>();
  for (const [customerId, fixture] of Object.entries(customers)) {
    if (fixture === 'archived' || fixture === 'no-subscription') {
      standing.set(customerId, fixture);
      continue;
    }
    standing.set(customerId, 'active');
    entries.set(scopeOf(customerId, undefined), featuresOf(`${where} customers["${customerId}"]`, fixture));
  }
  if (resources !== undefined) {
    if (!isPlainObject(resources)) {
      throw new TypeError(
        `${where} resources must map customer ids to resource ids to features, e.g. { 'cust-1': { 'site-1': { 'feature-05-domains': { limit: 2 } } } }.`,
      );
    }
    for (const [customerId, byResource] of Object.entries(resources)) {
      if (!isPlainObject(byResource)) throw new TypeError(`${where} resources["${customerId}"] must map resource ids to features.`);
      if (!standing.has(customerId)) standing.set(customerId, 'active');
      for (const [resourceId, features] of Object.entries(byResource)) {
        if (resourceId === '') throw new TypeError(`${where} resources["${customerId}"] has an empty resource id.`);
        entries.set(scopeOf(customerId, resourceId), featuresOf(`${where} resources["${customerId}"]["${resourceId}"]`, features));
      }
    }
  }
  return { standing, entries, createdAt };
}
