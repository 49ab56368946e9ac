import type { View } from './harness';

/** A gate's requestedValues as a framework's option: the list itself, or the function over the framework's request. */
export function valuesFor<R>(
  values: readonly string[] | ((v: View) => any),
  toView: (req: R) => View,
): readonly string[] | ((req: R) => any) {
  return typeof values === 'function' ? (req: R) => values(toView(req)) : values;
}
