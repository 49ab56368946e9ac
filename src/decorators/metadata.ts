import { FEATURE_REQUIREMENTS_METADATA, USAGE_REPORTS_METADATA } from './constants';
import type { FeatureRequirement, UsageReportSpec } from './types';

/** The part of reflect-metadata used here; the host application loads the polyfill. */
export interface ReflectMetadataApi {
  getOwnMetadata(key: unknown, target: object): unknown;
  getOwnMetadataKeys(target: object): unknown[];
  defineMetadata(key: unknown, value: unknown, target: object): void;
}

export function reflectMetadata(caller: string): ReflectMetadataApi {
  const api = Reflect as unknown as Partial<ReflectMetadataApi>;
  if (
    typeof api.getOwnMetadata !== 'function' ||
    typeof api.getOwnMetadataKeys !== 'function' ||
    typeof api.defineMetadata !== 'function'
  ) {
    throw new TypeError(
      `${caller} needs the reflect-metadata polyfill, which is not loaded. Install it (npm install reflect-metadata) ` +
        `and add import 'reflect-metadata' once at the top of your entry file, before any decorated class is loaded.`,
    );
  }
  return api as ReflectMetadataApi;
}

/** Bumped on every change to recorded metadata, so wrappers can cache their effective specs. */
let version = 0;
export function metadataVersion(): number {
  return version;
}

export type SpecKey = typeof FEATURE_REQUIREMENTS_METADATA | typeof USAGE_REPORTS_METADATA;
export type Spec = FeatureRequirement | UsageReportSpec;

export function ownSpecs<S extends Spec>(api: ReflectMetadataApi, key: SpecKey, target: object): readonly S[] {
  const value = api.getOwnMetadata(key, target);
  return Array.isArray(value) ? (value as S[]) : [];
}

/** Records `spec` in front of those already on `target` (decorators apply bottom-up; enforcement runs top-down). */
export function recordSpec(api: ReflectMetadataApi, key: SpecKey, target: object, spec: Spec, where: string, decorator: string): void {
  const existing = ownSpecs(api, key, target);
  if (existing.some((other) => other.featureId === spec.featureId)) {
    throw new TypeError(
      `@${decorator}('${spec.featureId}') appears twice on ${where}. Use a single @${decorator} per feature (a function can compute the amount).`,
    );
  }
  api.defineMetadata(key, Object.freeze([spec, ...existing]), target);
  version += 1;
}

/** Class-level specs apply unless the method has its own for the same feature; class ones come first. */
export function mergeSpecs<S extends Spec>(classSpecs: readonly S[], methodSpecs: readonly S[]): readonly S[] {
  if (classSpecs.length === 0) return methodSpecs;
  const overridden = new Set(methodSpecs.map((spec) => spec.featureId));
  return Object.freeze([...classSpecs.filter((spec) => !overridden.has(spec.featureId)), ...methodSpecs]);
}

interface LocatedMethod {
  fn: object;
  /** The class whose prototype defines the method; undefined for static methods. */
  owner: object | undefined;
}

function locate(target: object, methodName: string | symbol): LocatedMethod | undefined {
  const start = typeof target === 'function' ? (target.prototype as object | undefined) : target;
  for (
    let holder: object | null = start ?? null;
    holder !== null && holder !== Object.prototype;
    holder = Object.getPrototypeOf(holder) as object | null
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(holder, methodName);
    if (!descriptor) continue;
    if (typeof descriptor.value !== 'function') return undefined;
    const constructor: unknown = Object.prototype.hasOwnProperty.call(holder, 'constructor')
      ? (holder as { constructor: unknown }).constructor
      : undefined;
    const owner = typeof constructor === 'function' && constructor.prototype === holder ? constructor : undefined;
    return { fn: descriptor.value as object, owner };
  }
  if (typeof target === 'function') {
    const descriptor = Object.getOwnPropertyDescriptor(target, methodName);
    if (descriptor && typeof descriptor.value === 'function') return { fn: descriptor.value as object, owner: undefined };
  }
  return undefined;
}

function effectiveSpecs<S extends Spec>(key: SpecKey, caller: string, target: object, methodName: string | symbol): readonly S[] {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) {
    throw new TypeError(`${caller}(target, methodName) needs a class, a prototype or an instance as target; got ${String(target)}`);
  }
  const api = reflectMetadata(caller);
  const method = locate(target, methodName);
  if (!method) return [];
  return mergeSpecs(method.owner ? ownSpecs<S>(api, key, method.owner) : [], ownSpecs<S>(api, key, method.fn));
}

/**
 * The @RequireFeature requirements in force for `target[methodName]` (target: a class, its prototype or
 * an instance): the method's own, plus the class's for features the method does not name itself.
 * What a NestJS guard (or any framework) would read to enforce them itself.
 */
export function getFeatureRequirements(target: object, methodName: string | symbol): readonly FeatureRequirement[] {
  return effectiveSpecs<FeatureRequirement>(FEATURE_REQUIREMENTS_METADATA, 'getFeatureRequirements', target, methodName);
}

/** The @ReportUsage specs in force for `target[methodName]`, merged like getFeatureRequirements. */
export function getUsageReports(target: object, methodName: string | symbol): readonly UsageReportSpec[] {
  return effectiveSpecs<UsageReportSpec>(USAGE_REPORTS_METADATA, 'getUsageReports', target, methodName);
}
