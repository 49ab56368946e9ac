import { SetMetadata, type CustomDecorator } from '@nestjs/common';

/** The reflect-metadata key @SkipEntitlements() sets (on a handler or a controller class). */
export const SKIP_ENTITLEMENTS_METADATA = 'stigg-gate:skip-entitlements';

/**
 * Leaves a route (or every route of a controller) ungated under the global StiggGuard: neither the
 * guard nor the handler's own @RequireFeature wrapper checks the handler's requirements (e.g. those
 * of a class-level `@RequireFeature`). @ReportUsage still reports, and decorated provider methods the
 * handler calls still check their own requirements.
 */
export function SkipEntitlements(): CustomDecorator<string> {
  return SetMetadata(SKIP_ENTITLEMENTS_METADATA, true);
}
