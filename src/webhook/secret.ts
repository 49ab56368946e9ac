const encoder = new TextEncoder();

/**
 * Compares in time that depends only on the expected secret's length, not on where the strings
 * differ. No node:crypto, so the handler runs on edge runtimes too.
 */
export function secretMatches(received: string | undefined, expected: string): boolean {
  const want = encoder.encode(expected);
  const got = encoder.encode(received ?? '');
  let difference = got.length === want.length ? 0 : 1;
  for (let i = 0; i < want.length; i++) difference |= (want[i] ?? 0) ^ (got[i] ?? 0);
  return difference === 0 && received !== undefined;
}
