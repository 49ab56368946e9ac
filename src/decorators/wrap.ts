import { FEATURE_REQUIREMENTS_METADATA, USAGE_REPORTS_METADATA } from './constants';
import { enforce } from './enforce';
import type { ReflectMetadataApi } from './metadata';
import type { Method, WrapperState } from './state';

const states = new WeakMap<object, WrapperState>();
const OWN_KEYS = new Set<string | symbol>(['length', 'name', 'prototype', 'arguments', 'caller']);
const OUR_KEYS = new Set<unknown>([FEATURE_REQUIREMENTS_METADATA, USAGE_REPORTS_METADATA]);

/**
 * Returns the enforcing wrapper of `original` (itself when it already is one). The wrapper keeps the
 * name, the arity, own properties and every reflect-metadata key of the original, so decorators
 * stacked below this one keep working. Our own keys are not copied: a wrapper further in enforces them.
 */
export function wrapMethod(api: ReflectMetadataApi, original: Method, methodName: string | symbol): WrapperState {
  const existing = states.get(original);
  if (existing) return existing;

  const state: WrapperState = {
    original,
    wrapper: function stiggGatedMethod(this: unknown, ...args: unknown[]): unknown {
      return enforce(state, this, args);
    },
    api,
    methodName: typeof methodName === 'symbol' ? `[${methodName.description ?? ''}]` : methodName,
    owner: undefined,
    className: undefined,
    cachedAt: -1,
    requirements: [],
    reports: [],
  };
  const { wrapper } = state;
  Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
  for (const key of Reflect.ownKeys(original)) {
    if (OWN_KEYS.has(key)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(original, key);
    if (descriptor) Object.defineProperty(wrapper, key, descriptor);
  }
  for (const key of api.getOwnMetadataKeys(original)) {
    if (!OUR_KEYS.has(key)) api.defineMetadata(key, api.getOwnMetadata(key, original), wrapper);
  }
  states.set(wrapper, state);
  return state;
}

/** Wraps every own method of the class's prototype (accessors and the constructor excepted). */
export function wrapClassMethods(api: ReflectMetadataApi, target: abstract new (...args: never[]) => unknown): void {
  const prototype = target.prototype as object;
  for (const key of Reflect.ownKeys(prototype)) {
    if (key === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
    if (!descriptor || typeof descriptor.value !== 'function') continue;
    const state = wrapMethod(api, descriptor.value as Method, key);
    state.owner = target;
    state.className = target.name;
    state.cachedAt = -1;
    if (state.wrapper !== descriptor.value) Object.defineProperty(prototype, key, { ...descriptor, value: state.wrapper });
  }
}
