import { parse, validate } from 'graphql';
import { StiggClient } from '../../src/client';
import { checkBatchOperation, MAX_CHECKS_PER_CALL } from '../../src/client/check-batch';
import { startFakeStigg, schema, type FakeStigg } from './helpers/graphql-server';

// reportEntitlementCheckRequested(checks[]): Stigg's mutation takes one check, so n checks are one document of n
// aliased fields, valid against Stigg's schema, in one HTTP call.
let stigg: FakeStigg;
let client: StiggClient;

beforeAll(async () => {
  stigg = await startFakeStigg();
  client = new StiggClient({ apiKey: stigg.apiKey, apiUrl: stigg.url, maxRetries: 0 });
});
afterAll(() => stigg.close());
beforeEach(() => stigg.reset());

const check = (customerId: string, hasAccess: boolean) => ({
  customerId,
  featureId: 'feature-01-templates',
  entitlementCheckResult: { hasAccess, ...(hasAccess ? {} : { accessDeniedReason: 'RequestedUsageExceedingLimit' as const }) },
});

test.each([1, 3, MAX_CHECKS_PER_CALL])('the document of %i checks is valid against schema.graphql', (size) => {
  expect(validate(schema, parse(checkBatchOperation(size).query)).map((e) => e.message)).toEqual([]);
});

test('three checks: one call, each field resolved with its own check', async () => {
  const checks = [check('a', false), check('b', true), check('c', false)];
  let resolved = 0;
  const seen: unknown[] = [];
  stigg.resolvers['reportEntitlementCheckRequested'] = (args) => {
    resolved += 1;
    seen.push(args['entitlementCheckRequested']);
    return true;
  };
  await expect(client.reportEntitlementCheckRequested(checks)).resolves.toBe(true);
  expect(stigg.requests).toHaveLength(1);
  expect(resolved).toBe(3);
  expect(seen).toEqual(checks);
  expect(stigg.responses[0]?.body.data).toEqual({ check0: true, check1: true, check2: true });
});

test('a bad batch throws before anything is sent', async () => {
  await expect(client.reportEntitlementCheckRequested([])).rejects.toThrow(/entitlementCheckRequested must be a non-empty array/);
  const tooMany = Array.from({ length: MAX_CHECKS_PER_CALL + 1 }, (_, i) => check(`c${i}`, true));
  await expect(client.reportEntitlementCheckRequested(tooMany)).rejects.toThrow(/at most 200 checks per call \(got 201\)/);
  await expect(client.reportEntitlementCheckRequested([{ ...check('a', true), entitlementCheckResult: {} as never }])).rejects.toThrow(
    /entitlementCheckRequested\[0\]\.entitlementCheckResult\.hasAccess must be a boolean/,
  );
  await expect(client.reportEntitlementCheckRequested(check('', true))).rejects.toThrow(/customerId must be a non-empty string/);
  expect(stigg.requests).toHaveLength(0);
});

test('a refused field fails the call (the reporter logs it; nothing is sent again)', async () => {
  stigg.resolvers['reportEntitlementCheckRequested'] = () => {
    throw new Error('refused');
  };
  await expect(client.reportEntitlementCheckRequested([check('a', true), check('b', true)])).rejects.toThrow();
  expect(stigg.requests).toHaveLength(1);
});
