import type { CatalogFeature } from './catalog-types';

/**
 * What is wrong with the enumValues an entitlement (plan, add-on or promotional) grants of `feature`,
 * or null: they apply to ENUM features only, are non-empty strings without duplicates and, when the
 * feature declares its values, are among them. One rule for the catalog and grantPromotionalEntitlements.
 */
export function enumValuesProblem(values: unknown, feature: CatalogFeature): string | null {
  if (feature.featureType !== 'ENUM') return `only apply to ENUM features; "${feature.id}" is ${feature.featureType}.`;
  if (!Array.isArray(values)) return `must be an array of strings, got ${JSON.stringify(values)}.`;
  const seen = new Set<string>();
  for (const value of values as unknown[]) {
    if (typeof value !== 'string' || value.length === 0) return `must hold non-empty strings, got ${JSON.stringify(value)}.`;
    if (seen.has(value)) return `lists "${value}" twice.`;
    seen.add(value);
    if (feature.enumValues !== undefined && !feature.enumValues.includes(value))
      return `holds "${value}", which is not a value of the feature "${feature.id}" (${feature.enumValues.join(', ')}).`;
  }
  return null;
}
