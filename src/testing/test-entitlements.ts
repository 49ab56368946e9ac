import { createEntitlements, type EntitlementsOptions } from '../core';
import type {
  CheckInput,
  CloseOptions,
  CloseResult,
  ReadyOptions,
  Decision,
  Entitlements,
  EntitlementsEvents,
  Health,
  Lease,
  MaybePromise,
  ShadowCounts,
  UsageReport,
} from '../core';
import { silentLogger } from '../core/internal';
import { describeValue } from '../util/describe-value';
import { isPlainObject } from '../util/plain-object';
import { isThenable } from '../util/maybe-promise';
import { rejectUnknownOptions } from '../util/unknown-options';
import { checkExpectation, expectReported, type ExpectedReport } from './assertions';
import { createTestClock, timeOf, type TestClock } from './clock';
import { FakeStigg, type DeliveredUsage, type FailureKind } from './fake-stigg';
import { layerOf, type CustomerFixtures, type Layer, type ResourceFixtures } from './fixtures';
import { RecordingStore, type ReportedUsage } from './recording-store';

export interface TestEntitlementsOptions {
  /** Customers by id, with their features in the app's words (see FeatureFixture). Unlisted customers are unknown to Stigg. */
  customers: CustomerFixtures;
  /** Resource-scoped features: customer id → resource id → features. */
  resources?: ResourceFixtures;
  /** Where the clock starts (default: the time of the call); usage periods start here too. */
  start?: Date | string | number;
  /** As createEntitlements(): the per-feature decision when "Stigg" fails (see failNext()). */
  fallback?: EntitlementsOptions['fallback'];
  /** As createEntitlements(): 'closed' (default) answers 503 when "Stigg" fails, 'open' grants. */
  failMode?: EntitlementsOptions['failMode'];
  /** As createEntitlements(): Retry-After of a 503 (default 5). */
  retryAfterSeconds?: number;
  /** As createEntitlements(); default silent (the failures a test injects are not process warnings). */
  logger?: EntitlementsOptions['logger'];
}

/** Which records to return: every field given must match. */
export interface RecordFilter {
  customerId?: string;
  featureId?: string;
  resourceId?: string;
}

/** The Entitlements the adapters, decorators and Nest module take, with the controls and records a test needs. */
export interface TestEntitlements extends Entitlements {
  /** The kit's clock: still until moved. Moving it past a usage period's end starts the next period. */
  readonly clock: TestClock;
  /**
   * Lays fixtures over the current ones (features of the customers named; the others stay as they
   * are) until the returned function is called. Layers stack: the latest wins, and any can be removed.
   */
  override(customers: CustomerFixtures, resources?: ResourceFixtures): () => void;
  /** Usage reports the gate queued for Stigg so far, oldest first (commits, settle(), report()). */
  reported(filter?: RecordFilter): readonly ReportedUsage[];
  /** Throws an AssertionError listing every report unless the matching reports total `value` (or exist, without value). */
  expectReported(expected: ExpectedReport): void;
  /** Every decision made so far (granted or denied), oldest first. */
  decisions(filter?: RecordFilter): readonly Decision[];
  /** The next `times` calls to "Stigg" fail like this (the cache is dropped, so the next decision asks): the app's 503 path. */
  failNext(kind: FailureKind, times?: number): void;
  /** Units "Stigg" counts for the feature now: the fixture's `used` plus usage delivered (flush(), close()) in this period. */
  usage(customerId: string, featureId: string, resourceId?: string): number;
  /** Reports delivered to "Stigg" so far (after flush() or close()). */
  delivered(): readonly DeliveredUsage[];
  /** Forgets the recorded reports and decisions (fixtures, overrides and usage stay). */
  clearRecords(): void;
}

const KEYS = ['customers', 'resources', 'start', 'fallback', 'failMode', 'retryAfterSeconds', 'logger'] as const;
const FAILURES: readonly FailureKind[] = ['network', 'timeout', 'auth'];
/** Usage goes to the fake on flush() and close() (or a full batch), not on a timer: the interval stays far off. */
const FLUSH_INTERVAL_MS = 1_000_000_000;
const MAX_AGE_MS = 100 * 365 * 24 * 60 * 60 * 1000;
const CACHE_ENTRIES = 256;

function matches(
  record: { customerId: string; featureId: string; resourceId: string | undefined },
  filter: RecordFilter | undefined,
): boolean {
  if (filter === undefined) return true;
  return (
    (filter.customerId === undefined || record.customerId === filter.customerId) &&
    (filter.featureId === undefined || record.featureId === filter.featureId) &&
    (filter.resourceId === undefined || record.resourceId === filter.resourceId)
  );
}

class TestKit implements TestEntitlements {
  readonly clock: TestClock;
  private readonly engine: Entitlements;
  private readonly fake: FakeStigg;
  private readonly store: RecordingStore;
  private readonly made: Decision[] = [];
  private readonly customersSeen = new Set<string>();
  private readonly recordLease = (lease: Lease): Lease => {
    this.made.push(lease.decision);
    return lease;
  };
  private readonly recordDecision = (decision: Decision): Decision => {
    this.made.push(decision);
    return decision;
  };

  constructor(options: TestEntitlementsOptions) {
    const start = options.start === undefined ? Date.now() : timeOf('createTestEntitlements() start', options.start);
    const clock = createTestClock(start);
    const now = clock.now;
    // Moving the clock delivers what was queued (in the period it happened in), as production would have meanwhile.
    this.clock = {
      now,
      advance: (ms) => {
        clock.advance(ms);
        return this.engine.flush();
      },
      set: (time) => {
        clock.set(time);
        return this.engine.flush();
      },
    };
    this.fake = new FakeStigg(now, start);
    this.fake.layers.push(layerOf('createTestEntitlements()', options.customers, options.resources, start));
    // A test touches few keys: a small cache is cheap to make (the default 10,000 entries cost ~1 ms per kit); a key evicted is read again.
    this.store = new RecordingStore({ now, maxEntries: CACHE_ENTRIES });
    const engineOptions: EntitlementsOptions = {
      client: this.fake,
      store: this.store,
      now,
      cache: { maxEntries: CACHE_ENTRIES },
      // Reports wait for flush(), close() or a moved clock, however far a test moves it: never too old to deliver.
      usage: { flushIntervalMs: FLUSH_INTERVAL_MS, maxAgeMs: MAX_AGE_MS },
    };
    if (options.fallback !== undefined) engineOptions.fallback = options.fallback;
    if (options.failMode !== undefined) engineOptions.failMode = options.failMode;
    if (options.retryAfterSeconds !== undefined) engineOptions.retryAfterSeconds = options.retryAfterSeconds;
    // Failures here are the test's own doing (failNext): logged only to a logger the test gives, never as process warnings.
    engineOptions.logger = options.logger ?? silentLogger;
    this.engine = createEntitlements(engineOptions);
  }

  acquire(input: CheckInput): MaybePromise<Lease> {
    this.seen(input);
    const lease = this.engine.acquire(input);
    return isThenable(lease) ? lease.then(this.recordLease) : this.recordLease(lease);
  }

  check(input: CheckInput): MaybePromise<Decision> {
    this.seen(input);
    const decision = this.engine.check(input);
    return isThenable(decision) ? decision.then(this.recordDecision) : this.recordDecision(decision);
  }

  report(report: UsageReport): MaybePromise<void> {
    return this.engine.report(report);
  }

  invalidate(customerId: string): MaybePromise<void> {
    return this.engine.invalidate(customerId);
  }

  shadowCounts(): ShadowCounts {
    return this.engine.shadowCounts();
  }

  flush(): Promise<void> {
    return this.engine.flush();
  }

  /** Resolves at once unless `failNext()` queued a failure for the next call to Stigg: as ready() against the fake. */
  ready(options?: ReadyOptions): Promise<void> {
    return this.engine.ready(options);
  }

  health(): Health {
    return this.engine.health();
  }

  close(options?: CloseOptions): Promise<CloseResult> {
    return this.engine.close(options);
  }

  on<E extends keyof EntitlementsEvents>(event: E, listener: (...args: EntitlementsEvents[E]) => void): this {
    this.engine.on(event, listener);
    return this;
  }

  off<E extends keyof EntitlementsEvents>(event: E, listener: (...args: EntitlementsEvents[E]) => void): this {
    this.engine.off(event, listener);
    return this;
  }

  override(customers: CustomerFixtures, resources?: ResourceFixtures): () => void {
    const layer: Layer = layerOf('override()', customers, resources, this.clock.now());
    this.fake.layers.push(layer);
    this.forget(layer);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const at = this.fake.layers.indexOf(layer);
      if (at !== -1) this.fake.layers.splice(at, 1);
      this.forget(layer);
    };
  }

  reported(filter?: RecordFilter): readonly ReportedUsage[] {
    return this.store.reports.filter((report) => matches(report, filter));
  }

  expectReported(expected: ExpectedReport): void {
    expectReported(this.store.reports, checkExpectation(expected));
  }

  decisions(filter?: RecordFilter): readonly Decision[] {
    return this.made.filter((decision) => matches(decision, filter));
  }

  failNext(kind: FailureKind, times = 1): void {
    if (!FAILURES.includes(kind)) {
      throw new TypeError(
        `${describeValue(kind)} is not a valid value for failNext(). Please choose ${FAILURES.map((k) => `'${k}'`).join(', ')}.`,
      );
    }
    if (!Number.isSafeInteger(times) || times < 1) {
      throw new TypeError(`${describeValue(times)} is not a valid value for failNext() times. Please choose an integer >= 1.`);
    }
    this.fake.failNext(kind, times);
    for (const customerId of this.customersSeen) void this.engine.invalidate(customerId);
  }

  usage(customerId: string, featureId: string, resourceId?: string): number {
    return this.fake.usage(customerId, featureId, resourceId);
  }

  delivered(): readonly DeliveredUsage[] {
    return [...this.fake.delivered];
  }

  clearRecords(): void {
    this.made.length = 0;
    this.store.reports.length = 0;
  }

  private seen(input: CheckInput): void {
    if (typeof input?.customerId === 'string') this.customersSeen.add(input.customerId);
  }

  /** The engine asks "Stigg" again for the customers a layer names (read-after-write, as after a plan change). */
  private forget(layer: Layer): void {
    for (const customerId of layer.standing.keys()) void this.engine.invalidate(customerId);
  }
}

/**
 * An Entitlements instance for an app's own tests: the production engine (decisions, reservations,
 * settlement, problem bodies) in front of an in-process Stigg answering from fixtures in the app's
 * words. No sockets, no timers that keep a test runner open, decisions synchronous once a customer
 * is cached, as in production.
 */
export function createTestEntitlements(options: TestEntitlementsOptions): TestEntitlements {
  if (!isPlainObject(options)) {
    throw new TypeError(
      "createTestEntitlements() expects { customers }, e.g. createTestEntitlements({ customers: { 'cust-basic': { 'feature-01-templates': { limit: 3, used: 1 } } } }).",
    );
  }
  rejectUnknownOptions(options, KEYS, 'createTestEntitlements()');
  if (options.customers === undefined) {
    throw new TypeError(
      "createTestEntitlements() needs customers, e.g. { customers: { 'cust-basic': { 'feature-04-analytics': true } } }.",
    );
  }
  return new TestKit(options);
}
