import Stigg from '@stigg/node-server-sdk';
import { StiggClient, StiggGraphQLError } from '../../src/client';
import { defaultCatalog, startEmulator, validateCatalog, type Catalog } from '../../src/emulator';
import { forSuite, onFirstUse } from '../support/suite';

// Credits in the emulator (issue 31, the wire): our client and Stigg's own node SDK against the
// emulator over HTTP. Burn order, idempotency, overdraft, expiry and voids as Stigg documents them.

const CREDITS = 'ai-credits';
const DAY = 86_400_000;
const START = Date.parse('2026-12-01T00:00:00.000Z');

const catalog: Catalog = {
  ...defaultCatalog,
  currencies: [{ id: CREDITS, displayName: 'AI credits', symbol: '✦', units: { singular: 'credit', plural: 'credits' } }],
  customers: [
    { id: 'wallet', subscriptions: [{ planId: 'plan-revvenu-basic' }], creditGrants: [{ currencyId: CREDITS, amount: 100 }] },
    { id: 'empty', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
  ],
};

let now = START;
const emulator = forSuite(() => startEmulator({ port: 0, catalog, now: () => now }));
const client = onFirstUse(() => new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }));
beforeEach(() => {
  now = START;
  emulator.reset();
});

const balanceOf = async (customerId: string) =>
  (await client.getCreditBalance({ customerId, currencyId: CREDITS })).balances[0] ?? {
    currentBalance: 0,
    totalGranted: 0,
    totalConsumed: 0,
  };

let keys = 0;
const consume = (customerId: string, amount: number, idempotencyKey = `k-${(keys += 1)}`) =>
  client.consumeCredits({ customerId, currencyId: CREDITS, amount, idempotencyKey });

test('a catalog grant is the balance; a consumption lowers it and answers the optimistic balance', async () => {
  expect(await balanceOf('wallet')).toMatchObject({
    currentBalance: 100,
    totalGranted: 100,
    totalConsumed: 0,
    currency: { currencyId: CREDITS, displayName: 'AI credits', symbol: '✦', units: { singular: 'credit', plural: 'credits' } },
  });
  const consumed = await consume('wallet', 30);
  expect(consumed).toMatchObject({ amount: 30, currencyId: CREDITS, customerId: 'wallet', credit: { currentUsage: 30, usageLimit: 100 } });
  expect(await balanceOf('wallet')).toMatchObject({ currentBalance: 70, totalConsumed: 30 });
});

test('the same idempotency key twice burns once and answers the first response', async () => {
  const first = await consume('wallet', 40, 'once');
  const again = await consume('wallet', 40, 'once');
  expect(again).toEqual(first);
  expect((await balanceOf('wallet')).currentBalance).toBe(60);
});

test('burn order: priority, then sooner expiry, then promotional before paid — one ledger entry per grant touched', async () => {
  const grant = (displayName: string, extra: Partial<Parameters<StiggClient['grantCredits']>[0]>) =>
    client.grantCredits({ customerId: 'empty', currencyId: CREDITS, amount: 10, grantType: 'PAID', displayName, ...extra });
  const late = await grant('paid, no expiry', {});
  const soon = await grant('paid, expires soon', { expireAt: new Date(START + 5 * DAY).toISOString() });
  const promo = await grant('promotional, expires soon', { grantType: 'PROMOTIONAL', expireAt: new Date(START + 5 * DAY).toISOString() });
  const first = await grant('priority 0', { priority: 0 });
  await consume('empty', 25);
  const grants = (await client.getCreditGrants({ customerId: 'empty' })).edges.map((e) => e.node);
  const used = Object.fromEntries(grants.map((g) => [g.grantId, g.consumedAmount]));
  expect(used).toEqual({ [first.grantId]: 10, [promo.grantId]: 10, [soon.grantId]: 5, [late.grantId]: 0 });
  const consumed = (await client.getCreditLedger({ customerId: 'empty' })).events.filter((e) => e.eventType === 'CREDITS_CONSUMED');
  expect(consumed.map((e) => [e.creditGrantId, e.amount])).toEqual([
    [first.grantId, 10],
    [promo.grantId, 10],
    [soon.grantId, 5],
  ]);
});

test('past the balance Stigg does not refuse: the rest is overdraft, on the ledger', async () => {
  await consume('wallet', 130);
  expect(await balanceOf('wallet')).toMatchObject({ currentBalance: -30, totalConsumed: 130, totalGranted: 100 });
  expect(emulator.state.creditBalance('wallet', CREDITS).overdraft).toBe(30);
  const ledger = (await client.getCreditLedger({ customerId: 'wallet' })).events;
  expect(ledger.filter((e) => e.creditGrantId === 'overdraft').map((e) => e.amount)).toEqual([30]);
});

test('an expired grant leaves the balance, with a CREDITS_EXPIRED entry for what was left; a voided one too', async () => {
  const expiring = await client.grantCredits({
    customerId: 'empty',
    currencyId: CREDITS,
    amount: 20,
    grantType: 'PROMOTIONAL',
    displayName: 'trial',
    expireAt: new Date(START + DAY).toISOString(),
  });
  const paid = await client.grantCredits({ customerId: 'empty', currencyId: CREDITS, amount: 50, grantType: 'PAID', displayName: 'pack' });
  await consume('empty', 5);
  expect((await balanceOf('empty')).currentBalance).toBe(65);
  now = START + 2 * DAY;
  expect(await balanceOf('empty')).toMatchObject({ currentBalance: 50, totalGranted: 50 });
  await client.voidCreditGrant({ id: paid.grantId });
  expect((await client.getCreditBalance({ customerId: 'empty' })).balances[0]).toMatchObject({ currentBalance: 0, totalGranted: 0 });
  const entries = (await client.getCreditLedger({ customerId: 'empty' })).events.map((e) => [e.eventType, e.creditGrantId, e.amount]);
  expect(entries).toEqual([
    ['CREDITS_GRANTED', expiring.grantId, 20],
    ['CREDITS_GRANTED', paid.grantId, 50],
    ['CREDITS_CONSUMED', expiring.grantId, 5],
    ['CREDITS_EXPIRED', expiring.grantId, 15],
    ['CREDITS_VOIDED', paid.grantId, 50],
  ]);
  await expect(client.voidCreditGrant({ id: paid.grantId })).rejects.toThrow(/already voided/);
});

test('consumeCreditsAsync applies a batch; one unknown currency rejects it whole, burning nothing', async () => {
  const batch = [1, 2, 3].map((amount) => ({ customerId: 'wallet', currencyId: CREDITS, amount, idempotencyKey: `async-${amount}` }));
  expect(typeof (await client.consumeCreditsAsync({ consumptions: batch }))).toBe('string');
  expect((await balanceOf('wallet')).currentBalance).toBe(94);
  const bad = [
    ...batch.map((c) => ({ ...c, idempotencyKey: `${c.idempotencyKey}-b` })),
    { ...batch[0]!, currencyId: 'gold', idempotencyKey: 'x' },
  ];
  const error = await client.consumeCreditsAsync({ consumptions: bad }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(StiggGraphQLError);
  expect((error as StiggGraphQLError).code).toBe('CustomCurrencyNotFound');
  expect((await balanceOf('wallet')).currentBalance).toBe(94);
});

test('the client refuses a consumption without an idempotency key or with a bad amount before sending it', async () => {
  const before = emulator.stats().requests;
  await expect(client.consumeCredits({ customerId: 'wallet', currencyId: CREDITS, amount: 1, idempotencyKey: '' })).rejects.toThrow(
    /idempotencyKey/,
  );
  await expect(client.consumeCredits({ customerId: 'wallet', currencyId: CREDITS, amount: 0, idempotencyKey: 'z' })).rejects.toThrow(/> 0/);
  await expect(
    client.consumeCredits({ customerId: 'wallet', currencyId: CREDITS, amount: Number.NaN, idempotencyKey: 'z' }),
  ).rejects.toThrow(/amount/);
  expect(emulator.stats().requests).toBe(before);
});

test('a catalog with a grant in an undeclared currency, or an unknown key, is refused with the path', () => {
  expect(() => validateCatalog({ ...catalog, customers: [{ id: 'x', creditGrants: [{ currencyId: 'gold', amount: 1 }] }] })).toThrow(
    /customers\[0\]\.creditGrants\[0\]\.currencyId/,
  );
  expect(() => validateCatalog({ ...catalog, currencies: [{ id: CREDITS, symbl: '$' }] })).toThrow(/symbl/);
});

test("Stigg's node SDK 3.95 grants, reads, lists and voids credits against the emulator unchanged", async () => {
  const stigg = Stigg.initialize({
    apiKey: emulator.apiKey,
    baseUri: emulator.url.replace(/\/graphql$/, ''),
    realtimeUpdatesEnabled: false,
    enableEdge: false,
  });
  try {
    await stigg.waitForInitialization();
    const granted = await stigg.grantCredits({
      customerId: 'wallet',
      currencyId: CREDITS,
      amount: 25,
      grantType: 'PROMOTIONAL' as never,
      displayName: 'bonus',
    });
    expect(granted).toMatchObject({ amount: 25, currencyId: CREDITS, grantType: 'PROMOTIONAL', consumedAmount: 0 });
    const summary = await stigg.getCreditBalance({ customerId: 'wallet' });
    expect(summary.balances[0]).toMatchObject({ currentBalance: 125, totalGranted: 125, totalConsumed: 0 });
    const grants = await stigg.getCreditGrants({ customerId: 'wallet' });
    expect(JSON.stringify(grants)).toContain(granted!.grantId);
    const voided = await stigg.voidCreditGrant({ id: granted!.grantId });
    expect(voided).toMatchObject({ grantId: granted!.grantId });
    // The SDK keeps its own copy of the balance it read: the emulator's is read with our client.
    expect(await balanceOf('wallet')).toMatchObject({ currentBalance: 100 });
  } finally {
    stigg.close();
  }
});
