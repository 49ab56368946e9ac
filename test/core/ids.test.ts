import { StiggGraphQLError } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { InvalidIdError, MAX_ID_LENGTH, validateId } from '../../src/core/input';
import type { EntitlementsUpstream } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig, TEMPLATES, closedAfterEach } from './helpers';
import { forSuite } from '../support/suite';

const opened = closedAfterEach();

const rig = forSuite(() =>
  startRig([customer('basic', 'plan-revvenu-basic'), customer('other', 'plan-revvenu-basic')], {}, { maxRetries: 0 }),
);
const HOSTILE = [
  ...[' ', '\u00a0', '\t\n', ' basic', 'basic ', 'a\u001fb', 'a\u0000', 'x'.repeat(MAX_ID_LENGTH + 1), 42, null, {}],
  // Lone surrogates: encoded to UTF-8 (the wire, Redis) they become U+FFFD, so "x\uD800" would be "x\uFFFD"'s key.
  ...['x\uD800', '\uDC00x', 'a\uDC00\uD800b', 'acct\uDBFF'],
];

describe('validateId', () => {
  test.each(HOSTILE.map((value) => [JSON.stringify(value)?.slice(0, 20) ?? String(value), value]))('refuses %s', (_label, value) => {
    expect(() => validateId(value, 'resourceId')).toThrow(InvalidIdError);
  });

  test('answers 401 for a customer id and 400 for the others, naming the field and never echoing the id', () => {
    const customerError = (() => {
      try {
        validateId('  ', 'customerId');
      } catch (error) {
        return error as InvalidIdError;
      }
      return undefined;
    })();
    expect(customerError).toBeInstanceOf(TypeError);
    expect(customerError).toMatchObject({ status: 401, field: 'customerId', message: 'customerId must not be blank' });
    expect(() => validateId('f\u0001', 'featureId')).toThrow(expect.objectContaining({ status: 400, field: 'featureId' }) as Error);
    expect(validateId('cust-1', 'customerId')).toBe('cust-1');
    expect(validateId('x'.repeat(MAX_ID_LENGTH), 'customerId')).toHaveLength(MAX_ID_LENGTH);
  });
});

test('blank or whitespace ids are refused before any work and cannot open the shared circuit breaker', async () => {
  const calls: string[] = [];
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => {
      calls.push(query.customerId);
      return rig.client.getEntitlement(query);
    },
    reportUsageBulk: (input) => rig.client.reportUsageBulk(input),
  };
  const entitlements = createEntitlements({ client, circuitBreaker: { failureThreshold: 2 } });
  opened.push(entitlements);
  for (const id of [' ', '\u00a0', ' basic', '\u2003']) {
    for (let i = 0; i < 5; i += 1) {
      expect(() => entitlements.acquire({ customerId: id, featureId: TEMPLATES, requestedUsage: 1 })).toThrow(InvalidIdError);
      expect(() => entitlements.check({ customerId: 'basic', featureId: TEMPLATES, resourceId: id })).toThrow(InvalidIdError);
      expect(() => entitlements.report({ customerId: 'basic', featureId: id, value: 1 })).toThrow(InvalidIdError);
    }
  }
  expect(() => entitlements.invalidate(' ')).toThrow(InvalidIdError);
  expect(calls).toEqual([]);
  expect(await entitlements.check({ customerId: 'other', featureId: CAMPAIGNS })).toMatchObject({ granted: true, source: 'upstream' });
});

test('only transient upstream failures count toward the breaker: permanent rejections fail alone', async () => {
  let reject = true;
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => {
      if (reject && query.customerId === 'basic') {
        return Promise.reject(
          new StiggGraphQLError('getEntitlement', 200, [{ message: 'bad input', extensions: { code: 'BAD_USER_INPUT' } }]),
        );
      }
      return rig.client.getEntitlement(query);
    },
    reportUsageBulk: (input) => rig.client.reportUsageBulk(input),
  };
  const entitlements = createEntitlements({ client, circuitBreaker: { failureThreshold: 2 } });
  opened.push(entitlements);
  for (let i = 0; i < 6; i += 1) {
    await expect(Promise.resolve(entitlements.check({ customerId: 'basic', featureId: TEMPLATES }))).rejects.toMatchObject({ status: 503 });
  }
  expect(await entitlements.check({ customerId: 'other', featureId: TEMPLATES })).toMatchObject({ granted: true, source: 'upstream' });
  reject = false;
  expect(await entitlements.check({ customerId: 'basic', featureId: TEMPLATES })).toMatchObject({ granted: true, source: 'upstream' });
});
