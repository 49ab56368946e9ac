import { EmulatorError } from './errors';
import type { Json, Maybe, Store } from './store';

interface Comparison {
  eq?: Maybe<string>;
  neq?: Maybe<string>;
  in?: Maybe<string[]>;
  notIn?: Maybe<string[]>;
}

export interface CouponFilter {
  and?: Maybe<CouponFilter[]>;
  or?: Maybe<CouponFilter[]>;
  id?: Maybe<Comparison>;
  refId?: Maybe<Comparison>;
  name?: Maybe<Comparison>;
  description?: Maybe<Comparison>;
  billingId?: Maybe<Comparison>;
  status?: Maybe<Comparison>;
  type?: Maybe<Comparison>;
  source?: Maybe<Comparison>;
  [key: string]: unknown;
}

const COMPARED = ['id', 'refId', 'name', 'description', 'billingId', 'status', 'type', 'source'] as const;

function compare(value: unknown, c: Maybe<Comparison>): boolean {
  if (c === null || c === undefined) return true;
  const v = String(value);
  if (c.eq !== null && c.eq !== undefined && v !== c.eq) return false;
  if (c.neq !== null && c.neq !== undefined && v === c.neq) return false;
  if (c.in !== null && c.in !== undefined && !c.in.includes(v)) return false;
  if (c.notIn !== null && c.notIn !== undefined && c.notIn.includes(v)) return false;
  return true;
}

function matches(coupon: Json, filter: CouponFilter | null): boolean {
  if (filter === null) return true;
  if (filter.and !== null && filter.and !== undefined && !filter.and.every((f) => matches(coupon, f))) return false;
  if (filter.or !== null && filter.or !== undefined && filter.or.length > 0 && !filter.or.some((f) => matches(coupon, f))) return false;
  return COMPARED.every((field) => compare(coupon[field], filter[field]));
}

/** `coupons(filter:, paging:)`: a cursor connection in catalog order. */
export function coupons(store: Store, args: { filter?: Maybe<CouponFilter>; paging?: Maybe<{ first?: Maybe<number>; after?: Maybe<string>; last?: Maybe<number>; before?: Maybe<string> }> }): Json {
  const nodes = [...store.coupons.values()].filter((c) => matches(c, args.filter ?? null));
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
  const after = decode(args.paging?.after);
  const before = decode(args.paging?.before);
  if (after !== null) from = after + 1;
  if (before !== null) to = Math.min(to, before);
  const first = args.paging?.first;
  const last = args.paging?.last;
  if (first !== null && first !== undefined) to = Math.min(to, from + Math.max(0, first));
  if (last !== null && last !== undefined) from = Math.max(from, to - Math.max(0, last));
  const edges = nodes.slice(from, to).map((node, i) => ({ cursor: cursor(from + i), node }));
  return {
    edges,
    pageInfo: { hasNextPage: to < total, hasPreviousPage: from > 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges[edges.length - 1]?.cursor ?? null },
    totalCount: total,
  };
}
