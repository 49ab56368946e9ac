import { entitlementKey } from './decide';

interface CustomerKeys {
  readonly byFeature: Map<string, string>;
  byResource: Map<string, Map<string, string>> | undefined;
  /** The last feature asked without a resource, and its key: most calls repeat it. */
  lastFeatureId: string | undefined;
  lastKey: string;
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
    let keys = this.customers.get(customerId);
    if (keys === undefined) {
      if (this.customers.size >= this.max) this.customers.clear();
      keys = { byFeature: new Map(), byResource: undefined, lastFeatureId: undefined, lastKey: '' };
      this.customers.set(customerId, keys);
    }
    const plain = resourceId === undefined || resourceId === null;
    if (plain && keys.lastFeatureId === featureId) return keys.lastKey;
    let byFeature = keys.byFeature;
    if (!plain) {
      keys.byResource ??= new Map();
      let forResource = keys.byResource.get(resourceId);
      if (forResource === undefined) {
        if (keys.byResource.size >= this.max) keys.byResource.clear();
        forResource = new Map();
        keys.byResource.set(resourceId, forResource);
      }
      byFeature = forResource;
    }
    let key = byFeature.get(featureId);
    if (key === undefined) {
      key = entitlementKey(customerId, resourceId, featureId);
      byFeature.set(featureId, key);
    }
    if (plain) {
      keys.lastFeatureId = featureId;
      keys.lastKey = key;
    }
    return key;
  }
}
