// Suite-wide resources without the `let x; beforeAll(...); afterAll(...)` every suite used to write out.

/**
 * Starts a resource before the suite's first test and stops it after its last. The value returned stands for
 * the started one: its properties and methods are the started value's (an emulator, a rig, a server), so
 * `const rig = forSuite(() => startRig([...]))` replaces a `let`, a beforeAll and an afterAll.
 */
export function forSuite<T extends object>(
  start: () => Promise<T>,
  stop: (value: T) => unknown = (value) => (value as unknown as { stop(): unknown }).stop(),
): T {
  let current: T | undefined;
  beforeAll(async () => {
    current = await start();
  });
  afterAll(async () => {
    if (current !== undefined) await stop(current);
  });
  return standIn(() => {
    if (current === undefined) throw new Error('forSuite: used before the suite started it (in beforeAll)');
    return current;
  });
}

/** A value made on its first use (in a test or a hook, after forSuite's resources started), standing in likewise. */
export function onFirstUse<T extends object>(make: () => T): T {
  let made: T | undefined;
  return standIn(() => (made ??= make()));
}

/**
 * A proxy reading `resolve()`'s value. Methods from its prototype are bound to it (class instances keep private
 * fields); its own properties, functions included, are returned as they are (jest.spyOn's mocks stay mocks).
 */
function standIn<T extends object>(resolve: () => T): T {
  return new Proxy({} as T, {
    get(_, key) {
      const target = resolve();
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function' || Object.prototype.hasOwnProperty.call(target, key)) return value;
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
    set: (_, key, value) => Reflect.set(resolve(), key, value),
    has: (_, key) => Reflect.has(resolve(), key),
    ownKeys: () => Reflect.ownKeys(resolve()),
    getOwnPropertyDescriptor(_, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(resolve(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(resolve()),
  });
}
