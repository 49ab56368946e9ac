import type { Attributes, BatchObservableResult, ObservableCounter } from '@opentelemetry/api';
import type { Decision } from '../core';
import { metricAttributes } from './attributes';

interface Count {
  readonly attributes: Attributes;
  value: number;
}

/**
 * Decisions counted in place, by feature, source and reason, and reported as the cumulative total of
 * a monotonic counter when the SDK collects: a decision costs three Map lookups and an increment (no
 * attribute object, no SDK call); the attributes are made once per combination.
 */
export class DecisionTally {
  private readonly byFeature = new Map<string, Map<string, Map<string, Count>>>();

  add(decision: Decision): void {
    let bySource = this.byFeature.get(decision.featureId);
    if (bySource === undefined) this.byFeature.set(decision.featureId, (bySource = new Map<string, Map<string, Count>>()));
    let byReason = bySource.get(decision.source);
    if (byReason === undefined) bySource.set(decision.source, (byReason = new Map<string, Count>()));
    // A granted decision has no reason: '' (no Stigg reason is empty).
    const reason = decision.granted ? '' : (decision.accessDeniedReason ?? 'Unknown');
    const count = byReason.get(reason);
    if (count === undefined) byReason.set(reason, { attributes: metricAttributes(decision), value: 1 });
    else count.value += 1;
  }

  observe(result: BatchObservableResult, counter: ObservableCounter): void {
    for (const bySource of this.byFeature.values()) {
      for (const byReason of bySource.values()) {
        for (const count of byReason.values()) result.observe(counter, count.value, count.attributes);
      }
    }
  }
}
