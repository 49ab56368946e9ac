import { idProblem } from '../core';
import { describeValue as describe } from '../util/describe-value';
import { rejectUnknownOptions } from '../util/unknown-options';
import type { DecoratorScopeOptions } from './types';

const SCOPE_KEYS = ['customer', 'resource', 'entitlements'];

export function validateFeatureId(decorator: string, featureId: unknown): asserts featureId is string {
  if ((typeof featureId === 'object' && featureId !== null) || typeof featureId === 'function') {
    throw new TypeError(`@${decorator} must be called with a feature id: write @${decorator}('feature-id'), not @${decorator}.`);
  }
  if (typeof featureId !== 'string' || featureId.trim() === '') {
    throw new TypeError(
      `${describe(featureId)} is not a valid feature id for @${decorator}. Please pass the Stigg feature id, e.g. 'feature-01-templates'.`,
    );
  }
  const problem = idProblem(featureId);
  if (problem !== undefined) {
    throw new TypeError(
      `The feature id given to @${decorator} ${problem}. Please pass the Stigg feature id exactly as it is in Stigg, e.g. 'feature-01-templates'.`,
    );
  }
}

export function isEntitlementsLike(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { acquire?: unknown }).acquire === 'function' &&
    typeof (value as { report?: unknown }).report === 'function'
  );
}

/** Copies the options (the caller's object is never kept nor changed) after checking every field. */
interface Scope {
  customer: DecoratorScopeOptions['customer'];
  resource: DecoratorScopeOptions['resource'];
  entitlements: DecoratorScopeOptions['entitlements'];
}

export function validateScopeOptions(decorator: string, featureId: string, options: unknown): Scope {
  if (options === undefined) return { customer: undefined, resource: undefined, entitlements: undefined };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      `The options of @${decorator}('${featureId}') must be an object { customer?, resource?, entitlements? }; got ${describe(options)}.`,
    );
  }
  rejectUnknownOptions(options, SCOPE_KEYS, `@${decorator}('${featureId}')`);
  const { customer, resource, entitlements } = options as DecoratorScopeOptions;
  for (const [name, fn] of [
    ['customer', customer],
    ['resource', resource],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function') {
      throw new TypeError(
        `The ${name} option of @${decorator}('${featureId}') must be a function of the method's arguments, e.g. (input) => input.${name}Id; got ${describe(fn)}.`,
      );
    }
  }
  if (entitlements !== undefined && !isEntitlementsLike(entitlements)) {
    throw new TypeError(
      `The entitlements option of @${decorator}('${featureId}') must be the instance createEntitlements() returned; got ${describe(entitlements)}.`,
    );
  }
  return { customer, resource, entitlements };
}
