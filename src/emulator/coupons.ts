import { connection, matches, type Comparison, type Paging } from './connection';
import type { Json, Maybe, Store } from './store';

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

/** `coupons(filter:, paging:)`: a cursor connection in catalog order. */
export function coupons(store: Store, args: { filter?: Maybe<CouponFilter>; paging?: Maybe<Paging> }): Json {
  const nodes = [...store.coupons.values()].filter((c) => matches(args.filter, COMPARED, (field) => c[field]));
  return connection(nodes, args.paging);
}
