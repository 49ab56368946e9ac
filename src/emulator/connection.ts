import { EmulatorError } from './errors';
import type { Json, Maybe } from './store';

/** A filter comparison of Stigg's filter inputs (StringFieldComparison and friends), the operators the emulator applies. */
export interface Comparison {
  eq?: Maybe<string>;
  neq?: Maybe<string>;
  in?: Maybe<string[]>;
  notIn?: Maybe<string[]>;
}

export interface Paging {
  first?: Maybe<number>;
  after?: Maybe<string>;
  last?: Maybe<number>;
  before?: Maybe<string>;
}

export function compare(value: unknown, c: Maybe<Comparison>): boolean {
  if (c === null || c === undefined) return true;
  const v = String(value);
  if (c.eq !== null && c.eq !== undefined && v !== c.eq) return false;
  if (c.neq !== null && c.neq !== undefined && v === c.neq) return false;
  if (c.in !== null && c.in !== undefined && !c.in.includes(v)) return false;
  if (c.notIn !== null && c.notIn !== undefined && c.notIn.includes(v)) return false;
  return true;
}

/** A filter tree (and / or / field comparisons) over the fields `read` exposes. */
export function matches<F extends { and?: Maybe<F[]>; or?: Maybe<F[]> }>(
  filter: F | null | undefined,
  fields: readonly string[],
  read: (field: string) => unknown,
): boolean {
  if (filter === null || filter === undefined) return true;
  if (filter.and !== null && filter.and !== undefined && !filter.and.every((f) => matches(f, fields, read))) return false;
  if (filter.or !== null && filter.or !== undefined && filter.or.length > 0 && !filter.or.some((f) => matches(f, fields, read)))
    return false;
  const comparisons = filter as unknown as Record<string, Maybe<Comparison>>;
  return fields.every((field) => compare(read(field), comparisons[field]));
}

/** A cursor connection (edges, pageInfo, totalCount) over nodes in their given order. */
export function connection(nodes: Json[], paging: Maybe<Paging>): Json {
  const total = nodes.length;
  const cursor = (i: number): string => Buffer.from(`cursor:${i}`).toString('base64');
  const decode = (c: Maybe<string>): number | null => {
    if (c === null || c === undefined) return null;
    const match = /^cursor:(\d+)$/.exec(Buffer.from(c, 'base64').toString('utf8'));
    if (match === null) throw new EmulatorError('BadUserInput', `Invalid cursor: ${c}`, c);
    return Number(match[1]);
  };
  let from = 0;
  let to = total;
  const after = decode(paging?.after);
  const before = decode(paging?.before);
  if (after !== null) from = after + 1;
  if (before !== null) to = Math.min(to, before);
  const first = paging?.first;
  const last = paging?.last;
  if (first !== null && first !== undefined) to = Math.min(to, from + Math.max(0, first));
  if (last !== null && last !== undefined) from = Math.max(from, to - Math.max(0, last));
  const edges = nodes.slice(from, to).map((node, i) => ({ cursor: cursor(from + i), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: to < total,
      hasPreviousPage: from > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount: total,
  };
}
