/** A wire-shaped answer (as ./store's Json). */
type Json = Record<string, unknown>;

// The emulator's credit records (see ./credits for the model): grants, the ledger, and the
// consumptions already applied, by idempotency key.

export type GrantType = 'PAID' | 'PROMOTIONAL';

export interface GrantRecord {
  id: string;
  grantId: string;
  customerId: string;
  resourceId: string | null;
  currencyId: string;
  amount: number;
  consumed: number;
  grantType: GrantType;
  priority: number;
  displayName: string;
  comment: string | null;
  additionalMetaData: unknown;
  cost: { amount: number; currency: string };
  effectiveAt: number;
  expireAt: number | null;
  createdAt: number;
  updatedAt: number;
  voidedAt: number | null;
  /** Its CREDITS_EXPIRED entry was written. */
  expiryRecorded: boolean;
}

export interface LedgerEntry {
  timestamp: number;
  eventType: 'CREDITS_GRANTED' | 'CREDITS_CONSUMED' | 'CREDITS_EXPIRED' | 'CREDITS_VOIDED';
  customerId: string;
  resourceId: string | null;
  eventId: string | null;
  featureId: string | null;
  amount: number;
  creditGrantId: string;
  creditCurrencyId: string;
}

export class CreditBook {
  readonly grants = new Map<string, GrantRecord>();
  readonly ledger: LedgerEntry[] = [];
  /** Consumptions by idempotency key: a repeat answers the first response and burns nothing. */
  readonly consumptions = new Map<string, Json>();
  private sequence = 0;

  clear(): void {
    this.grants.clear();
    this.ledger.length = 0;
    this.consumptions.clear();
    this.sequence = 0;
  }

  nextGrantId(): string {
    this.sequence += 1;
    return `grant-${this.sequence}`;
  }
}
