import { randomUUID } from 'node:crypto';
import type { CatalogCreditGrant, CatalogCurrency } from './catalog-types';
import type { GrantRecord, GrantType, LedgerEntry } from './credit-book';
import { EmulatorError } from './errors';
import type { Json, Store } from './store';
import { iso } from './time';

// Credits as Stigg models them (docs.stigg.io, "Credits": core concepts, credit consumption logic):
// a customer's pool per currency (and resource) is made of grants; consumption burns them in
// Stigg's order — priority (lower first), sooner expiry, promotional before paid, earlier effective,
// older — one ledger entry per grant it touched. Stigg does not refuse a consumption past the
// balance: the rest is recorded as overdraft (a ledger entry on no grant, `creditGrantId: "overdraft"`),
// which is what a gate in the app must prevent. Idempotency keys make each consumption count once.

export interface GrantArgs {
  customerId: string;
  resourceId?: string | null;
  currencyId: string;
  amount: number;
  grantType: GrantType;
  displayName: string;
  priority?: number | null;
  effectiveAt?: string | null;
  expireAt?: string | null;
  comment?: string | null;
  additionalMetaData?: unknown;
  cost?: { amount: number; currency: string } | null;
}

export interface ConsumeArgs {
  customerId: string;
  resourceId?: string | null;
  currencyId: string;
  amount: number;
  idempotencyKey: string;
  createdAt?: string | null;
}

/** The promotional default priority sits after paid grants' explicit ones only by the other keys. */
const DEFAULT_PRIORITY = 1;

/** The catalog's currency, if declared. */
export function findCurrency(store: Store, currencyId: string): CatalogCurrency | undefined {
  return (store.catalog.currencies ?? []).find((c) => c.id === currencyId);
}

export function currencyOf(store: Store, currencyId: string): CatalogCurrency {
  const currency = findCurrency(store, currencyId);
  if (currency === undefined) throw new EmulatorError('CustomCurrencyNotFound', `Custom currency not found: ${currencyId}`, currencyId);
  return currency;
}

function ms(value: string | null | undefined, fallback: number | null): number | null {
  if (value === null || value === undefined) return fallback;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new EmulatorError('BadUserInput', `Not a date: ${value}`);
  return parsed;
}

export function isActive(grant: GrantRecord, now: number): boolean {
  return grant.voidedAt === null && grant.effectiveAt <= now && (grant.expireAt === null || now < grant.expireAt);
}

function statusOf(grant: GrantRecord, now: number): string {
  if (grant.voidedAt !== null) return 'VOIDED';
  if (grant.expireAt !== null && now >= grant.expireAt) return 'EXPIRED';
  return grant.effectiveAt > now ? 'SCHEDULED' : 'ACTIVE';
}

/** Stigg's burn order (credit consumption logic). */
export function burnOrder(a: GrantRecord, b: GrantRecord): number {
  return (
    a.priority - b.priority ||
    (a.expireAt ?? Number.POSITIVE_INFINITY) - (b.expireAt ?? Number.POSITIVE_INFINITY) ||
    (a.grantType === b.grantType ? 0 : a.grantType === 'PROMOTIONAL' ? -1 : 1) ||
    a.effectiveAt - b.effectiveAt ||
    a.createdAt - b.createdAt
  );
}

export function walletGrants(store: Store, customerId: string, resourceId: string | null, currencyId: string | null): GrantRecord[] {
  return [...store.credits.grants.values()].filter(
    (g) => g.customerId === customerId && g.resourceId === resourceId && (currencyId === null || g.currencyId === currencyId),
  );
}

/** Writes the CREDITS_EXPIRED entries of grants that expired with credits left (once each). */
function recordExpiries(store: Store, grants: GrantRecord[], now: number): void {
  for (const grant of grants) {
    if (grant.expiryRecorded || grant.voidedAt !== null || grant.expireAt === null || now < grant.expireAt) continue;
    grant.expiryRecorded = true;
    const left = grant.amount - grant.consumed;
    if (left > 0) store.credits.ledger.push(entry(grant, 'CREDITS_EXPIRED', left, grant.expireAt));
  }
}

function entry(grant: GrantRecord, eventType: LedgerEntry['eventType'], amount: number, timestamp: number): LedgerEntry {
  return {
    timestamp,
    eventType,
    customerId: grant.customerId,
    resourceId: grant.resourceId,
    eventId: null,
    featureId: null,
    amount,
    creditGrantId: grant.grantId,
    creditCurrencyId: grant.currencyId,
  };
}

export function grantJson(grant: GrantRecord, now: number): Json {
  return {
    id: grant.id,
    grantId: grant.grantId,
    amount: grant.amount,
    consumedAmount: grant.consumed,
    comment: grant.comment,
    currencyId: grant.currencyId,
    customerId: grant.customerId,
    resourceId: grant.resourceId,
    displayName: grant.displayName,
    effectiveAt: iso(grant.effectiveAt),
    expireAt: iso(grant.expireAt),
    grantType: grant.grantType,
    priority: grant.priority,
    cost: grant.cost,
    status: statusOf(grant, now),
    paymentCollection: 'NOT_REQUIRED',
    createdAt: iso(grant.createdAt),
    updatedAt: iso(grant.updatedAt),
    voidedAt: iso(grant.voidedAt),
    additionalMetaData: grant.additionalMetaData ?? null,
  };
}

export function createCreditGrant(store: Store, input: GrantArgs): Json {
  store.customer(input.customerId);
  currencyOf(store, input.currencyId);
  if (!(input.amount > 0)) throw new EmulatorError('BadUserInput', `A credit grant's amount must be > 0; got ${input.amount}`);
  const now = store.clock.now();
  const grant: GrantRecord = {
    id: randomUUID(),
    grantId: store.credits.nextGrantId(),
    customerId: input.customerId,
    resourceId: input.resourceId ?? null,
    currencyId: input.currencyId,
    amount: input.amount,
    consumed: 0,
    grantType: input.grantType,
    priority: input.priority ?? DEFAULT_PRIORITY,
    displayName: input.displayName,
    comment: input.comment ?? null,
    additionalMetaData: input.additionalMetaData ?? null,
    cost: input.cost ?? { amount: 0, currency: store.currency },
    effectiveAt: ms(input.effectiveAt, now) ?? now,
    expireAt: ms(input.expireAt, null),
    createdAt: now,
    updatedAt: now,
    voidedAt: null,
    expiryRecorded: false,
  };
  store.credits.grants.set(grant.grantId, grant);
  store.credits.ledger.push(entry(grant, 'CREDITS_GRANTED', grant.amount, grant.effectiveAt));
  return grantJson(grant, now);
}

/** Grants of the catalog file (docs/emulator.md), given at load time. */
export function loadCatalogGrants(store: Store, customerId: string, grants: readonly CatalogCreditGrant[]): void {
  for (const g of grants) {
    createCreditGrant(store, {
      customerId,
      resourceId: g.resourceId,
      currencyId: g.currencyId,
      amount: g.amount,
      grantType: g.grantType ?? 'PAID',
      displayName: g.displayName ?? `${g.amount} ${g.currencyId}`,
      priority: g.priority,
      effectiveAt: g.effectiveAt,
      expireAt: g.expireAt,
    });
  }
}

export function voidCreditGrant(store: Store, input: { id: string }): Json {
  const grant = [...store.credits.grants.values()].find((g) => g.id === input.id || g.grantId === input.id);
  if (grant === undefined) throw new EmulatorError('CreditGrantNotFound', `Credit grant not found: ${input.id}`, input.id);
  if (grant.voidedAt !== null) throw new EmulatorError('CreditGrantAlreadyVoided', `Credit grant already voided: ${input.id}`, input.id);
  const now = store.clock.now();
  recordExpiries(store, [grant], now);
  grant.voidedAt = now;
  grant.updatedAt = now;
  const left = grant.amount - grant.consumed;
  if (left > 0 && !grant.expiryRecorded) store.credits.ledger.push(entry(grant, 'CREDITS_VOIDED', left, now));
  return grantJson(grant, now);
}

/** Balance of one wallet: granted and consumed over the grants in force, and what was overdrawn. */
export function walletBalance(store: Store, customerId: string, resourceId: string | null, currencyId: string) {
  const now = store.clock.now();
  const grants = walletGrants(store, customerId, resourceId, currencyId);
  recordExpiries(store, grants, now);
  const active = grants.filter((g) => isActive(g, now));
  const totalGranted = active.reduce((sum, g) => sum + g.amount, 0);
  const consumedOfActive = active.reduce((sum, g) => sum + g.consumed, 0);
  const overdraft = store.credits.ledger
    .filter(
      (e) =>
        e.creditGrantId === 'overdraft' && e.customerId === customerId && e.resourceId === resourceId && e.creditCurrencyId === currencyId,
    )
    .reduce((sum, e) => sum + e.amount, 0);
  const totalConsumed = consumedOfActive + overdraft;
  const upcoming = grants.flatMap((g) => [g.effectiveAt, g.expireAt ?? Number.POSITIVE_INFINITY]).filter((t) => t > now);
  const validUntil = upcoming.length === 0 ? null : Math.min(...upcoming);
  return {
    totalGranted,
    totalConsumed,
    currentBalance: totalGranted - totalConsumed,
    overdraft,
    validUntil: Number.isFinite(validUntil) ? validUntil : null,
  };
}
