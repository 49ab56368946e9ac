/**
 * Customer and resource ids as the app's resolvers return them, checked before any work: a blank id
 * reaching Stigg fails there and counts as an upstream failure, so a handful of requests with ' ' as
 * their id would open the circuit breaker for every customer (issue 12.1).
 *
 * 256 characters bounds what one request can make the library hold per key (cache entry, Redis key,
 * outbox report; 4 KB ids cost ~43 MB per customer before) while leaving room for composite ids
 * (`org:workspace:project`) well beyond the UUIDs and slugs Stigg ids usually are.
 */
export const MAX_ID_LENGTH = 256;

export type IdFault = 'blank' | 'too-long' | 'control-characters';

// \s covers U+00A0, U+1680, U+2000-U+200A, U+2028/9, U+202F, U+205F, U+3000 and U+FEFF; the
// zero-width characters beside them are invisible too.
const EDGE_SPACE = /^[\s\u200B-\u200D\u2060]+|[\s\u200B-\u200D\u2060]+$/g;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

export type CheckedId = { readonly id: string; readonly fault?: undefined } | { readonly id?: undefined; readonly fault: IdFault };

/** The id without surrounding (Unicode) whitespace, or why it cannot be one. */
export function checkId(value: string): CheckedId {
  const id = value.replace(EDGE_SPACE, '');
  if (id === '') return { fault: 'blank' };
  if (id.length > MAX_ID_LENGTH) return { fault: 'too-long' };
  if (CONTROL.test(id)) return { fault: 'control-characters' };
  return { id };
}

export function describeIdFault(fault: IdFault): string {
  switch (fault) {
    case 'blank':
      return 'is blank';
    case 'too-long':
      return `is longer than ${MAX_ID_LENGTH} characters`;
    case 'control-characters':
      return 'contains control characters';
  }
}

/**
 * Thrown where no response can be written directly (a decorated method, the request context): 401 for
 * a customer id, 400 for a resource id. `expose` lets Koa's default error handler show the message.
 */
export class InvalidIdError extends Error {
  override readonly name = 'InvalidIdError';
  readonly status: 400 | 401;
  readonly expose = true;

  constructor(
    readonly kind: 'customer' | 'resource',
    readonly fault: IdFault,
    readonly featureId: string | null,
  ) {
    super(`The ${kind} id ${describeIdFault(fault)}${featureId === null ? '' : ` (feature "${featureId}")`}.`);
    this.status = kind === 'customer' ? 401 : 400;
  }
}
