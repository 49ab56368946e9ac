import { entitlementKey } from './decide';

interface CustomerKeys {
  /** The last feature asked without a resource, and its key: most calls repeat it. */
  lastFeatureId: string;
  lastKey: string;
  byFeature: Map<string, string> | undefined;
  byResource: Map<string, Map<string, string>> | undefined;
}

/**
 * Hands out the same key string for the same (customer, resource, feature), so the hot path does not
 * build and hash a new string on every call (that costs more than the cache lookup itself). Bounded:
 * it starts over once it knows `max` customers.
 */
export class KeyCache {
  private readonly customers = new Map<string, CustomerKeys>();

  constructor(private readonly max: number) {}

  get(customerId: string, resourceId: string | undefined | null, featureId: string): string {
    const keys = this.customers.get(customerId);
    if (resourceId === undefined || resourceId === null) {
      if (keys === undefined) {
        const key = entitlementKey(customerId, undefined, featureId);
        this.remember(customerId, { lastFeatureId: featureId, lastKey: key, byFeature: undefined, byResource: undefined });
        return key;
      }
      if (keys.lastFeatureId === featureId) return keys.lastKey;
      keys.byFeature ??= keys.lastKey === '' ? new Map() : new Map([[keys.lastFeatureId, keys.lastKey]]);
      let key = keys.byFeature.get(featureId);
      if (key === undefined) {
        key = entitlementKey(customerId, undefined, featureId);
        keys.byFeature.set(featureId, key);
      }
      keys.lastFeatureId = featureId;
      keys.lastKey = key;
      return key;
    }
    const owner = keys ?? this.remember(customerId, { lastFeatureId: '', lastKey: '', byFeature: undefined, byResource: undefined });
    owner.byResource ??= new Map();
    let forResource = owner.byResource.get(resourceId);
    if (forResource === undefined) {
      if (owner.byResource.size >= this.max) owner.byResource.clear();
      forResource = new Map();
      owner.byResource.set(resourceId, forResource);
    }
    let key = forResource.get(featureId);
    if (key === undefined) {
      key = entitlementKey(customerId, resourceId, featureId);
      forResource.set(featureId, key);
    }
    return key;
  }

  private remember(customerId: string, keys: CustomerKeys): CustomerKeys {
    if (this.customers.size >= this.max) this.customers.clear();
    this.customers.set(customerId, keys);
    return keys;
  }
}
