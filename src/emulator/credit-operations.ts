import { randomUUID } from 'node:crypto';
import type { CatalogCurrency } from './catalog-types';
import { burnOrder, currencyOf, findCurrency, grantJson, isActive, walletBalance, walletGrants, type ConsumeArgs } from './credits';
import { EmulatorError } from './errors';
import type { Json, Store } from './store';
import { iso } from './time';

// The read and consume operations of Stigg's credit API, over the CreditBook of ./credits:
// creditBalanceSummary, creditGrants, creditsLedger, consumeCredits and consumeCreditsAsync.

function currencyJson(currency: CatalogCurrency | undefined, currencyId: string): Json {
  return {
    currencyId,
    displayName: currency?.displayName ?? currencyId,
    symbol: currency?.symbol ?? null,
    units: currency?.units === undefined ? null : { singular: currency.units.singular, plural: currency.units.plural },
  };
}

export function creditBalanceSummary(
  store: Store,
  input: { customerId: string; resourceId?: string | null; currencyId?: string | null },
): Json {
  store.customer(input.customerId);
  const resourceId = input.resourceId ?? null;
  const currencies = new Set<string>();
  for (const grant of store.credits.grants.values()) {
    if (grant.customerId === input.customerId && grant.resourceId === resourceId) currencies.add(grant.currencyId);
  }
  if (input.currencyId !== undefined && input.currencyId !== null) {
    for (const id of [...currencies]) if (id !== input.currencyId) currencies.delete(id);
  }
  const balances = [...currencies].sort().map((currencyId) => {
    const balance = walletBalance(store, input.customerId, resourceId, currencyId);
    return {
      customerId: input.customerId,
      resourceId,
      currencyId,
      currency: currencyJson(findCurrency(store, currencyId), currencyId),
      currentBalance: balance.currentBalance,
      totalConsumed: balance.totalConsumed,
      totalGranted: balance.totalGranted,
      validUntil: balance.validUntil,
    };
  });
  return { customerId: input.customerId, resourceId, balances };
}

export function creditGrants(store: Store, input: { customerId: string; resourceId?: string | null; currencyId?: string | null }): Json {
  store.customer(input.customerId);
  const now = store.clock.now();
  const resourceId = input.resourceId ?? null;
  const grants = walletGrants(store, input.customerId, resourceId, input.currencyId ?? null);
  const edges = grants.map((g) => ({ cursor: g.grantId, node: grantJson(g, now) }));
  return {
    edges,
    pageInfo: {
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
      hasNextPage: false,
      hasPreviousPage: false,
    },
    totalCount: edges.length,
  };
}

export function creditsLedger(store: Store, input: { customerId: string; resourceId?: string | null }): Json {
  store.customer(input.customerId);
  const resourceId = input.resourceId ?? null;
  // Reading the balances writes the expiries that are due, so the ledger shows them.
  for (const currencyId of new Set([...store.credits.grants.values()].map((g) => g.currencyId))) {
    walletBalance(store, input.customerId, resourceId, currencyId);
  }
  const events = store.credits.ledger
    .filter((e) => e.customerId === input.customerId && e.resourceId === resourceId)
    .map((e) => ({ ...e, timestamp: iso(e.timestamp) }));
  return { events };
}

/** Burns `amount` in Stigg's order; what no grant covers is overdraft. One ledger entry per grant touched. */
function burn(store: Store, args: ConsumeArgs, at: number): void {
  const resourceId = args.resourceId ?? null;
  const grants = walletGrants(store, args.customerId, resourceId, args.currencyId)
    .filter((g) => isActive(g, at))
    .sort(burnOrder);
  let left = args.amount;
  const base = {
    customerId: args.customerId,
    resourceId,
    eventId: args.idempotencyKey,
    featureId: null,
    creditCurrencyId: args.currencyId,
  };
  for (const grant of grants) {
    if (left <= 0) break;
    const take = Math.min(left, grant.amount - grant.consumed);
    if (take <= 0) continue;
    grant.consumed += take;
    grant.updatedAt = at;
    left -= take;
    store.credits.ledger.push({ ...base, timestamp: at, eventType: 'CREDITS_CONSUMED', amount: take, creditGrantId: grant.grantId });
  }
  if (left > 0) {
    store.credits.ledger.push({ ...base, timestamp: at, eventType: 'CREDITS_CONSUMED', amount: left, creditGrantId: 'overdraft' });
  }
}

export function consumeCredits(store: Store, input: ConsumeArgs): Json {
  const replay = store.credits.consumptions.get(input.idempotencyKey);
  if (replay !== undefined) return replay;
  store.customer(input.customerId);
  currencyOf(store, input.currencyId);
  if (!(input.amount > 0)) throw new EmulatorError('BadUserInput', `The amount of credits to consume must be > 0; got ${input.amount}`);
  const now = store.clock.now();
  const at = input.createdAt === undefined || input.createdAt === null ? now : Date.parse(input.createdAt);
  if (Number.isNaN(at)) throw new EmulatorError('BadUserInput', `Not a date: ${String(input.createdAt)}`);
  burn(store, input, at);
  const balance = walletBalance(store, input.customerId, input.resourceId ?? null, input.currencyId);
  const response: Json = {
    amount: input.amount,
    currencyId: input.currencyId,
    customerId: input.customerId,
    resourceId: input.resourceId ?? null,
    timestamp: iso(at),
    credit: {
      currencyId: input.currencyId,
      currentUsage: balance.totalConsumed,
      usageLimit: balance.totalGranted,
      timestamp: iso(now),
      usagePeriodEnd: null,
    },
  };
  store.credits.consumptions.set(input.idempotencyKey, response);
  return response;
}

/** The emulator applies asynchronous consumptions at once; Stigg's answer is an opaque string. */
export function consumeCreditsAsync(store: Store, input: { consumptions: ConsumeArgs[] }): string {
  if (input.consumptions.length === 0 || input.consumptions.length > 1_000) {
    throw new EmulatorError('BadUserInput', `consumeCreditsAsync takes 1 to 1000 consumptions; got ${input.consumptions.length}`);
  }
  // Validated as a whole first: one bad consumption rejects the call and burns nothing.
  for (const c of input.consumptions) {
    store.customer(c.customerId);
    currencyOf(store, c.currencyId);
  }
  for (const c of input.consumptions) consumeCredits(store, c);
  return randomUUID();
}
