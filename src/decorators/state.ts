import { FEATURE_REQUIREMENTS_METADATA, USAGE_REPORTS_METADATA } from './constants';
import { mergeSpecs, metadataVersion, ownSpecs, type ReflectMetadataApi } from './metadata';
import type { FeatureRequirement, UsageReportSpec } from './types';

/** What a wrapper knows about the method it wraps; shared by wrap.ts (which builds it) and enforce.ts (which reads it). */

export type Method = (this: unknown, ...args: unknown[]) => unknown;

export interface WrapperState {
  readonly original: Method;
  readonly wrapper: Method;
  readonly api: ReflectMetadataApi;
  readonly methodName: string;
  /** The class whose prototype holds the method (set by the class decorator or a prototype method decorator). */
  owner: (abstract new (...args: never[]) => unknown) | undefined;
  className: string | undefined;
  cachedAt: number;
  requirements: readonly FeatureRequirement[];
  reports: readonly UsageReportSpec[];
}

export function label(state: WrapperState): string {
  return state.className ? `${state.className}.${state.methodName}` : state.methodName;
}

/** The requirements and reports in force, recomputed only after some decorator recorded new metadata. */
export function specsOf(state: WrapperState): WrapperState {
  const version = metadataVersion();
  if (state.cachedAt !== version) {
    const { api, owner, wrapper } = state;
    state.requirements = mergeSpecs(
      owner ? ownSpecs<FeatureRequirement>(api, FEATURE_REQUIREMENTS_METADATA, owner) : [],
      ownSpecs<FeatureRequirement>(api, FEATURE_REQUIREMENTS_METADATA, wrapper),
    );
    state.reports = mergeSpecs(
      owner ? ownSpecs<UsageReportSpec>(api, USAGE_REPORTS_METADATA, owner) : [],
      ownSpecs<UsageReportSpec>(api, USAGE_REPORTS_METADATA, wrapper),
    );
    state.cachedAt = version;
  }
  return state;
}
