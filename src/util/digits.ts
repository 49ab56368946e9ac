/**
 * '000' … '999': counters on the hot path (idempotency keys, reservation ids) append one of these to
 * a prefix redrawn every thousand, instead of converting a number to a string on every call (~25 ns).
 */
export const THREE_DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
