import { Stigg, createEntitlements } from 'stigg-gate';
import { localOverrides } from '../../src/testing/local';

const FIXTURES = JSON.stringify({ customers: { 'cust-1': { 'feature-04-analytics': true, 'feature-01-templates': { limit: 1 } } } });

describe('STIGG_GATE_OVERRIDES: local development without Stigg', () => {
  const saved = { ...process.env };
  let warnings: jest.SpyInstance;

  beforeEach(() => {
    warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });

  afterEach(() => {
    warnings.mockRestore();
    process.env = { ...saved };
  });

  it('makes Stigg.createClient() answer from the fixtures, without a key, and says so loudly', async () => {
    process.env['STIGG_GATE_OVERRIDES'] = FIXTURES;
    process.env['NODE_ENV'] = 'development';
    delete process.env['STIGG_SERVER_API_KEY'];
    const entitlements = createEntitlements({ client: Stigg.createClient() });
    expect(await entitlements.check({ customerId: 'cust-1', featureId: 'feature-04-analytics' })).toMatchObject({ granted: true });
    const lease = await entitlements.acquire({ customerId: 'cust-1', featureId: 'feature-01-templates', requestedUsage: 1 });
    lease.commit();
    expect(
      (await entitlements.check({ customerId: 'cust-1', featureId: 'feature-01-templates', requestedUsage: 1 })).accessDeniedReason,
    ).toBe('RequestedUsageExceedingLimit');
    expect((await entitlements.check({ customerId: 'cust-2', featureId: 'feature-04-analytics' })).accessDeniedReason).toBe(
      'CustomerNotFound',
    );
    await entitlements.close();
    expect(warnings).toHaveBeenCalledWith(expect.stringContaining('STIGG_GATE_OVERRIDES is set'), {
      type: 'StiggGateWarning',
      code: 'STIGG_GATE_OVERRIDES',
    });
  });

  it('is refused when NODE_ENV is production', () => {
    process.env['STIGG_GATE_OVERRIDES'] = FIXTURES;
    process.env['NODE_ENV'] = 'production';
    expect(() => Stigg.createClient('key')).toThrow(
      'STIGG_GATE_OVERRIDES is set while NODE_ENV is production: stigg-gate refuses to answer entitlements from local fixtures.',
    );
  });

  it('leaves Stigg.createClient() alone when unset or blank', () => {
    expect(localOverrides({})).toBeUndefined();
    expect(localOverrides({ STIGG_GATE_OVERRIDES: ' ' })).toBeUndefined();
    delete process.env['STIGG_GATE_OVERRIDES'];
    delete process.env['STIGG_SERVER_API_KEY'];
    expect(() => Stigg.createClient()).toThrow(/STIGG_SERVER_API_KEY/);
    expect(warnings).not.toHaveBeenCalled();
  });

  it.each([
    ['not JSON', 'cust-1', 'STIGG_GATE_OVERRIDES must hold JSON fixtures'],
    ['a typo', '{"customer":{}}', '"customer" is not an option of STIGG_GATE_OVERRIDES. Did you mean "customers"?'],
    [
      'a bad fixture',
      '{"customers":{"c":{"f":{"limit":"3"}}}}',
      '"3" is not a valid value for STIGG_GATE_OVERRIDES customers["c"]["f"].limit',
    ],
  ])('explains %s', (_name, value, message) => {
    expect(() => localOverrides({ STIGG_GATE_OVERRIDES: value })).toThrow(message);
  });
});
