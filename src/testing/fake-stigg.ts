import { StiggAuthError, StiggNetworkError, StiggTimeoutError } from '../client/errors';
import { asError } from '../util/maybe-promise';
import type { EntitlementsUpstream, UpstreamEntitlement, UpstreamEntitlementsState, UpstreamUsageResult } from '../core';
import { nextPeriodEnd } from '../core/internal';
import { scopeOf, type Entry, type Layer, type ResetPeriod, type Standing } from './fixtures';

/** A failure to inject into the next call to "Stigg": the app's 503 path, as each looks from the client. */
export type FailureKind = 'network' | 'timeout' | 'auth';

type UsageInput = Parameters<EntitlementsUpstream['reportUsageBulk']>[0]['usages'][number];

interface Counter {
  /** The period end the counter is for (null: usage never resets). */
  periodEnd: number | null;
  delta: number;
  /** A SET report replaced the fixture's usage with this. */
  setTo: number | undefined;
}

/** A usage report Stigg took (the kit's record of deliveries). */
export interface DeliveredUsage {
  readonly customerId: string;
  readonly featureId: string;
  readonly resourceId: string | undefined;
  readonly value: number;
  readonly updateBehavior: 'DELTA' | 'SET';
}

function featureKey(scope: string, featureId: string): string {
  return scope + '\u001f' + featureId;
}

function failure(kind: FailureKind, operation: string): Error {
  if (kind === 'timeout') return new StiggTimeoutError(operation, 10_000);
  if (kind === 'auth') return new StiggAuthError(operation, 401);
  return new StiggNetworkError(operation, 'ECONNREFUSED', false);
}

/** Stigg's GraphQL rejection of a report, as the client raises it (a code the usage pipeline drops for good). */
function rejection(code: string): Error {
  return Object.assign(new Error(`Stigg rejected the usage report: ${code}`), { code, transient: false });
}

/**
 * An in-process Stigg: answers the engine's reads (one feature, or a customer's whole set) and takes
 * its usage reports, from layered fixtures, a clock and the usage it was given. No sockets, no timers.
 */
export class FakeStigg implements EntitlementsUpstream {
  readonly layers: Layer[] = [];
  private readonly counters = new Map<string, Counter>();
  private readonly seenKeys = new Set<string>();
  private readonly failures: FailureKind[] = [];
  readonly delivered: DeliveredUsage[] = [];

  constructor(
    private readonly now: () => number,
    private readonly start: number,
  ) {}

  failNext(kind: FailureKind, times: number): void {
    for (let i = 0; i < times; i++) this.failures.push(kind);
  }

  /** Units Stigg counts now for this feature (the fixture's `used` plus what was delivered in this period). */
  usage(customerId: string, featureId: string, resourceId?: string): number {
    const scope = scopeOf(customerId, resourceId);
    const entry = this.entry(scope, featureId);
    return entry?.kind === 'metered' ? this.used(scope, featureId, entry) : 0;
  }

  getEntitlement(query: Parameters<EntitlementsUpstream['getEntitlement']>[0]): Promise<UpstreamEntitlement> {
    return this.answer('getEntitlement', () => this.entitlement(query.customerId, query.featureId, query.resourceId ?? undefined));
  }

  getEntitlementsState(query: { customerId: string; resourceId?: string | null }): Promise<UpstreamEntitlementsState> {
    return this.answer('getEntitlementsState', () => this.state(query.customerId, query.resourceId ?? undefined));
  }

  reportUsageBulk(input: { usages: UsageInput[] }): Promise<UpstreamUsageResult[]> {
    return this.answer('reportUsageBulk', () => input.usages.map((usage) => this.take(usage)));
  }

  private answer<T>(operation: string, run: () => T): Promise<T> {
    const kind = this.failures.shift();
    if (kind !== undefined) return Promise.reject(failure(kind, operation));
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  private standing(customerId: string): Standing | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const standing = this.layers[i]?.standing.get(customerId);
      if (standing !== undefined) return standing;
    }
    return undefined;
  }

  private hasScope(scope: string): boolean {
    return this.layers.some((layer) => layer.entries.has(scope));
  }

  private entry(scope: string, featureId: string): Entry | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const entry = this.layers[i]?.entries.get(scope)?.get(featureId);
      if (entry !== undefined) return entry;
    }
    return undefined;
  }

  /** A feature some fixture names: Stigg's catalog has it (NoFeatureEntitlementInSubscription, not FeatureNotFound). */
  private known(featureId: string): boolean {
    return this.layers.some((layer) => [...layer.entries.values()].some((features) => features.has(featureId)));
  }

  /** Why the customer (and resource) has no entitlements at all; null when it has some. */
  private scopeReason(customerId: string, resourceId: string | undefined): string | null {
    const standing = this.standing(customerId);
    if (standing === undefined) return 'CustomerNotFound';
    if (standing === 'archived') return 'CustomerIsArchived';
    if (standing === 'no-subscription') return 'NoActiveSubscription';
    if (resourceId !== undefined && !this.hasScope(scopeOf(customerId, resourceId))) return 'CustomerResourceNotFound';
    if (resourceId === undefined && !this.hasScope(scopeOf(customerId, undefined))) return 'NoActiveSubscription';
    return null;
  }

  private entitlement(customerId: string, featureId: string, resourceId: string | undefined): UpstreamEntitlement {
    const scopeReason = this.scopeReason(customerId, resourceId);
    if (scopeReason !== null) return this.denied(scopeReason, featureId);
    const scope = scopeOf(customerId, resourceId);
    const entry = this.entry(scope, featureId);
    if (entry === undefined)
      return this.denied(this.known(featureId) ? 'NoFeatureEntitlementInSubscription' : 'FeatureNotFound', featureId);
    return (
      this.granted(scope, featureId, entry) ??
      this.denied(entry.kind === 'denied' ? entry.reason : 'NoFeatureEntitlementInSubscription', featureId)
    );
  }

  /** A denial as Stigg answers it: the feature as the catalog has it (null when unknown), and a usage of 0. */
  private denied(reason: string, featureId: string): UpstreamEntitlement {
    return {
      isGranted: false,
      accessDeniedReason: reason as UpstreamEntitlement['accessDeniedReason'],
      hasUnlimitedUsage: false,
      currentUsage: 0,
      feature: this.featureOf(featureId),
    };
  }

  /** The feature's type, from any fixture that says it (`false` alone reads as an on/off feature). */
  private featureOf(featureId: string): UpstreamEntitlement['feature'] {
    let known = false;
    for (const layer of this.layers) {
      for (const features of layer.entries.values()) {
        const entry = features.get(featureId);
        if (entry === undefined) continue;
        known = true;
        if (entry.kind === 'metered') return { refId: featureId, featureType: 'NUMBER', meterType: 'Incremental' };
        if (entry.kind === 'enum') return { refId: featureId, featureType: 'ENUM', meterType: 'None' };
      }
    }
    return known ? { refId: featureId, featureType: 'BOOLEAN', meterType: 'None' } : null;
  }

  private state(customerId: string, resourceId: string | undefined): UpstreamEntitlementsState {
    const reason = this.scopeReason(customerId, resourceId);
    if (reason !== null) return { accessDeniedReason: reason, entitlements: [] };
    const scope = scopeOf(customerId, resourceId);
    const features = new Map<string, Entry>();
    for (const layer of this.layers) for (const [featureId, entry] of layer.entries.get(scope) ?? []) features.set(featureId, entry);
    const entitlements: UpstreamEntitlement[] = [];
    for (const [featureId, entry] of features) {
      const granted = this.granted(scope, featureId, entry);
      if (granted !== undefined) entitlements.push(granted);
    }
    return { accessDeniedReason: null, entitlements };
  }

  /** Stigg's answer at requestedUsage 0 for an entry the customer has; undefined for one it has not. */
  private granted(scope: string, featureId: string, entry: Entry): UpstreamEntitlement | undefined {
    switch (entry.kind) {
      case 'absent':
      case 'denied':
        return undefined;
      case 'boolean':
        return { isGranted: true, hasUnlimitedUsage: false, feature: { refId: featureId, featureType: 'BOOLEAN', meterType: 'None' } };
      case 'enum':
        return {
          isGranted: true,
          hasUnlimitedUsage: false,
          enumValues: entry.values,
          feature: { refId: featureId, featureType: 'ENUM', meterType: 'None' },
        };
      case 'metered': {
        const periodEnd = this.periodEnd(entry.reset);
        return {
          isGranted: true,
          usageLimit: entry.limit,
          hasUnlimitedUsage: entry.limit === null,
          hasSoftLimit: entry.soft,
          currentUsage: this.used(scope, featureId, entry),
          usagePeriodEnd: periodEnd === null ? null : new Date(periodEnd).toISOString(),
          resetPeriod: entry.reset,
          feature: { refId: featureId, featureType: 'NUMBER', meterType: 'Incremental' },
        };
      }
    }
  }

  private periodEnd(reset: ResetPeriod | null, at = this.now()): number | null {
    return nextPeriodEnd(this.start, reset, at);
  }

  private counter(key: string, periodEnd: number | null): Counter {
    let counter = this.counters.get(key);
    if (counter === undefined || counter.periodEnd !== periodEnd) {
      counter = { periodEnd, delta: 0, setTo: undefined };
      this.counters.set(key, counter);
    }
    return counter;
  }

  /** The fixture's `used` (of the topmost layer that sets it, put on in this period), then the reports. */
  private used(scope: string, featureId: string, entry: Extract<Entry, { kind: 'metered' }>): number {
    const periodEnd = this.periodEnd(entry.reset);
    const counter = this.counter(featureKey(scope, featureId), periodEnd);
    let baseline = 0;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i] as Layer;
      const layered = layer.entries.get(scope)?.get(featureId);
      if (layered?.kind !== 'metered' || layered.used === undefined) continue;
      if (this.periodEnd(entry.reset, layer.createdAt) === periodEnd) baseline = layered.used;
      break;
    }
    return (counter.setTo ?? baseline) + counter.delta;
  }

  private take(usage: UsageInput): UpstreamUsageResult {
    const resourceId = usage.resourceId ?? undefined;
    const scopeReason = this.scopeReason(usage.customerId, resourceId);
    if (scopeReason === 'CustomerNotFound' || scopeReason === 'CustomerResourceNotFound') throw rejection(scopeReason);
    const scope = scopeOf(usage.customerId, resourceId);
    const entry = this.entry(scope, usage.featureId);
    if (entry === undefined && !this.known(usage.featureId)) throw rejection('FeatureNotFound');
    const metered = entry?.kind === 'metered' ? entry : undefined;
    const reset = metered?.reset ?? null;
    const periodEnd = this.periodEnd(reset);
    const key = featureKey(scope, usage.featureId);
    const idempotencyKey = usage.idempotencyKey ?? undefined;
    if (idempotencyKey === undefined || !this.seenKeys.has(idempotencyKey)) {
      if (idempotencyKey !== undefined) this.seenKeys.add(idempotencyKey);
      const behavior = usage.updateBehavior ?? 'DELTA';
      // Usage counts in the period it happened in (its createdAt): a report of an ended period is not this one's.
      const createdAt = Date.parse(usage.createdAt ?? '');
      if (Number.isNaN(createdAt) || this.periodEnd(reset, createdAt) === periodEnd) {
        const counter = this.counter(key, periodEnd);
        if (behavior === 'SET') {
          counter.setTo = usage.value;
          counter.delta = 0;
        } else counter.delta += usage.value;
      }
      this.delivered.push({
        customerId: usage.customerId,
        featureId: usage.featureId,
        resourceId,
        value: usage.value,
        updateBehavior: behavior,
      });
    }
    return {
      id: idempotencyKey ?? key,
      customerId: usage.customerId,
      featureId: usage.featureId,
      resourceId: resourceId ?? null,
      currentUsage: metered === undefined ? null : this.used(scope, usage.featureId, metered),
      usagePeriodEnd: periodEnd === null ? null : new Date(periodEnd).toISOString(),
    };
  }
}
