import type { BuildOptions, Gate } from './harness';

type StiggSpec = Exclude<BuildOptions['stigg'], false | undefined>;

/** stigg()'s options every adapter passes on as they are: those that take the request are each adapter's. */
export function plainStiggOptions(
  s: StiggSpec,
): Pick<StiggSpec, 'statusMapping' | 'reportWhen' | 'onAbort' | 'rateLimitHeaders' | 'logger'> {
  return {
    ...(s.statusMapping ? { statusMapping: s.statusMapping } : {}),
    ...(s.reportWhen ? { reportWhen: s.reportWhen } : {}),
    ...(s.onAbort ? { onAbort: s.onAbort } : {}),
    ...(s.rateLimitHeaders !== undefined ? { rateLimitHeaders: s.rateLimitHeaders } : {}),
    ...(s.logger ? { logger: s.logger } : {}),
  };
}

/** requireFeature()'s options every adapter passes on as they are. */
export function plainRouteOptions(
  o: NonNullable<Gate['options']>,
): Pick<NonNullable<Gate['options']>, 'statusMapping' | 'reportWhen' | 'mode' | 'rateLimitHeaders'> {
  return {
    ...(o.statusMapping ? { statusMapping: o.statusMapping } : {}),
    ...(o.reportWhen ? { reportWhen: o.reportWhen } : {}),
    ...(o.mode ? { mode: o.mode } : {}),
    ...(o.rateLimitHeaders !== undefined ? { rateLimitHeaders: o.rateLimitHeaders } : {}),
  };
}
