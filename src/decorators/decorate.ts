import { recordSpec, reflectMetadata, type Spec, type SpecKey } from './metadata';
import type { AnyClass, StiggDecorator } from './types';
import { wrapClassMethods, wrapMethod } from './wrap';

type Method = (this: unknown, ...args: unknown[]) => unknown;
type Constructor = abstract new (...args: never[]) => unknown;

interface StandardContext {
  kind: string;
  name: string | symbol | undefined;
}

function isStandardContext(value: unknown): value is StandardContext {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}

function nameOf(key: string | symbol | undefined): string {
  return typeof key === 'symbol' ? `[${key.description ?? ''}]` : (key ?? 'anonymous');
}

/**
 * Builds the decorator that records `spec` under `key` and makes sure the method (or every own method
 * of the class) is wrapped. Accepts both TypeScript's experimentalDecorators calls
 * (target, key, descriptor) / (constructor) and standard ones (value, context).
 */
export function createDecorator(decorator: string, key: SpecKey, spec: Spec): StiggDecorator {
  function stiggDecorator(target: unknown, keyOrContext?: unknown, descriptor?: unknown): unknown {
    const api = reflectMetadata(`@${decorator}`);

    if (isStandardContext(keyOrContext)) {
      const { kind, name } = keyOrContext;
      if (kind === 'class' && typeof target === 'function') {
        recordSpec(api, key, target, spec, `class ${nameOf(name)}`, decorator);
        wrapClassMethods(api, target as Constructor);
        return undefined;
      }
      if (kind === 'method' && typeof target === 'function') {
        const state = wrapMethod(api, target as Method, name ?? 'anonymous');
        recordSpec(api, key, state.wrapper, spec, `method ${nameOf(name)}`, decorator);
        return state.wrapper;
      }
      throw new TypeError(`@${decorator} decorates methods and classes; it cannot decorate ${kind} ${nameOf(name)}.`);
    }

    if (typeof target === 'function' && keyOrContext === undefined && descriptor === undefined) {
      recordSpec(api, key, target, spec, `class ${target.name}`, decorator);
      wrapClassMethods(api, target as Constructor);
      return undefined;
    }

    if (
      (typeof keyOrContext === 'string' || typeof keyOrContext === 'symbol') &&
      (typeof target === 'object' || typeof target === 'function') &&
      target !== null
    ) {
      const property = keyOrContext as string | symbol;
      const found = descriptor as PropertyDescriptor | undefined;
      if (!found || typeof found.value !== 'function') {
        throw new TypeError(`@${decorator} decorates methods and classes; ${nameOf(property)} is ${found ? 'an accessor' : 'a property'}.`);
      }
      const state = wrapMethod(api, found.value as Method, property);
      const onPrototype = typeof target === 'object';
      if (onPrototype) {
        state.owner ??= (target as { constructor: Constructor }).constructor;
        state.className ??= state.owner.name;
      } else {
        state.className ??= (target as AnyClass).name;
      }
      recordSpec(api, key, state.wrapper, spec, `method ${state.className ? `${state.className}.` : ''}${nameOf(property)}`, decorator);
      return { ...found, value: state.wrapper };
    }

    throw new TypeError(`@${decorator}(...) was applied to something that is neither a method nor a class.`);
  }
  return stiggDecorator as StiggDecorator;
}
