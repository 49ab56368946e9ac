import { EventEmitter } from 'node:events';
import type { CheckInput, CloseResult, Decision, Entitlements, Health, Lease, MaybePromise, ShadowCounts } from '../../src/core/types';

/**
 * A stand-in for createEntitlements() used ONLY for adapter edge cases the real core cannot be made
 * to produce on demand (an acquire that throws, rejects, or answers synchronously/asynchronously).
 */
export class FakeEntitlements extends EventEmitter implements Entitlements {
  calls: CheckInput[] = [];
  settled: Array<{ featureId: string; how: 'commit' | 'release' }> = [];
  answer: (input: CheckInput) => MaybePromise<Lease> = (input) => this.lease(input, true);

  lease(input: CheckInput, granted: boolean, extra: Partial<Decision> = {}): Lease {
    const settled = this.settled;
    let done = false;
    const decision: Decision = {
      granted,
      customerId: input.customerId,
      resourceId: input.resourceId,
      featureId: input.featureId,
      accessDeniedReason: granted ? null : 'NoActiveSubscription',
      requestedUsage: input.requestedUsage ?? 0,
      currentUsage: 0,
      usageLimit: 10,
      remaining: null,
      hasUnlimitedUsage: false,
      hasSoftLimit: false,
      softLimitExceeded: false,
      requestedValues: [],
      enumValues: null,
      usagePeriodEnd: null,
      metered: granted && (input.requestedUsage ?? 0) > 0,
      source: 'cache',
      enforced: true,
      wouldDenyReason: null,
      ...extra,
    };
    function settle(how: 'commit' | 'release'): void {
      if (done) return;
      done = true;
      settled.push({ featureId: input.featureId, how });
    }
    return {
      decision,
      commit: () => settle('commit'),
      release: () => settle('release'),
      settle: (units) => settle(units === 0 ? 'release' : 'commit'),
    };
  }

  acquire(input: CheckInput): MaybePromise<Lease> {
    this.calls.push(input);
    return this.answer(input);
  }
  check(input: CheckInput): Decision {
    return this.lease(input, true).decision;
  }
  report(): void {}
  invalidate(): void {}
  async flush(): Promise<void> {}

  shadowCounts(): ShadowCounts {
    return { decisions: 0, wouldDeny: 0, byReason: {}, unavailable: 0 };
  }

  async ready(): Promise<void> {}

  health(): Health {
    return {
      ok: true,
      closed: false,
      breaker: 'closed',
      store: { name: 'fake', reachable: true, error: null },
      outbox: { depth: 0, oldestAgeMs: null, scope: 'store', parked: false },
    };
  }
  async close(): Promise<CloseResult> {
    return { undelivered: [] };
  }
}
