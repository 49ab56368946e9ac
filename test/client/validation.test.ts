import { DEFAULT_API_URL, Stigg, StiggClient } from '../../src/client';
import type { StiggClientOptions } from '../../src/client';
import { startFakeStigg } from './helpers/graphql-server';
import type { FakeStigg } from './helpers/graphql-server';

let stigg: FakeStigg;
let client: StiggClient;

beforeAll(async () => {
  stigg = await startFakeStigg();
  client = new StiggClient({ apiKey: stigg.apiKey, apiUrl: stigg.url });
});
afterAll(() => stigg.close());
beforeEach(() => stigg.reset());

describe('options are validated at construction', () => {
  const base: StiggClientOptions = { apiKey: 'key-1' };
  it.each<[string, unknown, RegExp]>([
    ['a missing apiKey', { apiKey: undefined }, /apiKey option/],
    ['an empty apiKey', { apiKey: '' }, /apiKey option/],
    ['an apiKey with a newline', { apiKey: 'key\nX-Evil: 1' }, /printable ASCII/],
    ['a relative apiUrl', { apiUrl: '/graphql' }, /apiUrl option.*https:\/\/api\.stigg\.io\/graphql/],
    ['a non-http apiUrl', { apiUrl: 'ftp://example.test/graphql' }, /apiUrl option/],
    ['a zero timeoutMs', { timeoutMs: 0 }, /timeoutMs option/],
    ['a NaN timeoutMs', { timeoutMs: Number.NaN }, /timeoutMs option/],
    ['a string timeoutMs', { timeoutMs: '5000' }, /timeoutMs option/],
    ['a fractional maxRetries', { maxRetries: 1.5 }, /maxRetries option/],
    ['a negative maxRetries', { maxRetries: -1 }, /maxRetries option/],
    ['a negative retryBaseDelayMs', { retryBaseDelayMs: -5 }, /retryBaseDelayMs option/],
    ['an infinite maxRetryDelayMs', { maxRetryDelayMs: Infinity }, /maxRetryDelayMs option/],
    ['a fetch that is not a function', { fetch: 'fetch' }, /fetch option/],
    ['a logger without warn/error', { logger: { debug() {} } }, /logger option/],
  ])('rejects %s with a TypeError', (_what, override, message) => {
    expect(() => new StiggClient({ ...base, ...(override as object) })).toThrow(TypeError);
    expect(() => new StiggClient({ ...base, ...(override as object) })).toThrow(message);
  });

  it('never echoes the apiKey in a validation message', () => {
    expect(() => new StiggClient({ apiKey: 'secret key with spaces' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret') }),
    );
  });

  it('points at the right call when given a bare key', () => {
    expect(() => new StiggClient('key-1' as unknown as StiggClientOptions)).toThrow(/Stigg\.createClient\(apiKey\)/);
    expect(() => new (StiggClient as any)()).toThrow(TypeError);
    expect(() => Stigg.createClient('key-1', null as never)).toThrow(/options must be an object/);
  });

  it('does not mutate the options object and accepts 0 where 0 is meaningful', () => {
    const options = Object.freeze({ apiKey: 'key-1', maxRetries: 0, retryBaseDelayMs: 0, maxRetryDelayMs: 0 });
    expect(() => new StiggClient(options)).not.toThrow();
    const createOptions = Object.freeze({ timeoutMs: 1000 });
    expect(() => Stigg.createClient('key-1', createOptions)).not.toThrow();
    expect(createOptions).toEqual({ timeoutMs: 1000 });
  });

  it('defaults apiUrl to https://api.stigg.io/graphql', async () => {
    const urls: string[] = [];
    const refuse: typeof fetch = async (input) => {
      urls.push(String(input));
      throw Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    };
    await expect(Stigg.createClient('key-1', { fetch: refuse, maxRetries: 0 }).getEntitlements({ customerId: 'c' })).rejects.toThrow(
      /ECONNREFUSED/,
    );
    expect(DEFAULT_API_URL).toBe('https://api.stigg.io/graphql');
    expect(urls).toEqual(['https://api.stigg.io/graphql']);
  });
});

describe('inputs are validated before anything is sent', () => {
  const ok = { customerId: 'customer-demo-01', featureId: 'feature-01-templates' };
  it.each<[string, (c: StiggClient) => Promise<unknown>, RegExp]>([
    ['an empty customer id', (c) => c.getCustomer(''), /getCustomer\(\): customerId must be a non-empty string \(got an empty string\)/],
    [
      'a blank customer id',
      (c) => c.archiveCustomer({ customerId: '  ' }),
      /archiveCustomer\(\): input\.customerId must be a non-empty string \(got a blank string\)/,
    ],
    ['a missing customer id', (c) => c.provisionCustomer({ name: 'Acme' }), /input\.customerId \(or input\.refId\)/],
    ['an empty feature id', (c) => c.getEntitlement({ ...ok, featureId: '' }), /query\.featureId must be a non-empty string/],
    ['an empty resource id', (c) => c.getEntitlement({ ...ok, resourceId: '' }), /query\.resourceId/],
    ['a negative requested usage', (c) => c.getEntitlement({ ...ok, options: { requestedUsage: -1 } }), /requestedUsage must be >= 0/],
    [
      'an infinite requested usage',
      (c) => c.getEntitlement({ ...ok, options: { requestedUsage: Infinity } }),
      /requestedUsage must be a finite number \(got Infinity\)/,
    ],
    ['a NaN usage value', (c) => c.reportUsage({ ...ok, value: Number.NaN }), /input\.value must be a finite number \(got NaN\)/],
    ['a string usage value', (c) => c.reportUsage({ ...ok, value: '3' as never }), /input\.value must be a finite number \(got string\)/],
    [
      'a bad usage inside a bulk report',
      (c) =>
        c.reportUsageBulk({
          usages: [
            { ...ok, value: 1 },
            { ...ok, customerId: '', value: 1 },
          ],
        }),
      /input\.usages\[1\]\.customerId/,
    ],
    ['an empty bulk report', (c) => c.reportUsageBulk({ usages: [] }), /input\.usages must be a non-empty array/],
    ['an empty idempotency key', (c) => c.reportUsage({ ...ok, value: 1, idempotencyKey: '' }), /input\.idempotencyKey/],
    [
      'an event without idempotency key',
      (c) => c.reportEvent({ usageEvents: [{ customerId: 'c', eventName: 'e' } as never] }),
      /usageEvents\[0\]\.idempotencyKey/,
    ],
    ['an empty plan id', (c) => c.provisionSubscription({ customerId: 'c', planId: '' }), /input\.planId/],
    ['an empty subscription id', (c) => c.getSubscription(''), /getSubscription\(\): subscriptionId/],
    ['a missing subscription ref', (c) => c.cancelSubscription({} as never), /input\.subscriptionRefId/],
    [
      'no promotional entitlements',
      (c) => c.grantPromotionalEntitlements({ customerId: 'c', promotionalEntitlements: [] }),
      /promotionalEntitlements must be a non-empty array/,
    ],
    ['a null input', (c) => c.updateSubscription(null as never), /updateSubscription\(\): input must be an object \(got null\)/],
    ['non-object coupon args', (c) => c.getCoupons('ACTIVE' as never), /getCoupons\(\): args must be an object/],
  ])('rejects %s with a TypeError and sends nothing', async (_what, call, message) => {
    const error = await call(client).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    expect(stigg.requests).toHaveLength(0);
  });

  it('accepts a negative DELTA (usage going down) and sends it', async () => {
    const measurement = await client.reportUsage({ ...ok, value: -2, updateBehavior: 'DELTA' });
    expect(measurement.currentUsage).toBe(1);
    expect(stigg.requests).toHaveLength(1);
  });
});
