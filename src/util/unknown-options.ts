/**
 * One check for every factory of the library: an option key it does not know is a typo until proven
 * otherwise (`failmode`, `statusMap`, `resourceId` where `resource` was meant), and a typo that passes
 * silently changes behaviour. Throws a TypeError naming the key, the closest known key and the list.
 */
export function rejectUnknownOptions(options: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    const hint = suggestion === undefined ? '' : ` Did you mean "${suggestion}"?`;
    throw new TypeError(`"${key}" is not an option of ${where}.${hint} Known options: ${known.join(', ')}.`);
  }
}

/** The known key nearest to `key` (case-insensitive edit distance), when it is near enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(key.length / 3));
  if (best !== undefined && (bestDistance <= tolerance || best.toLowerCase().startsWith(lower) || lower.startsWith(best.toLowerCase()))) {
    return best;
  }
  return undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_unused, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
