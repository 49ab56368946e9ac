import { Stigg, StiggClient } from '../../src/client';
import type { StiggClientOptions } from '../../src/client';
import { startFakeStigg } from './helpers/graphql-server';
import type { FakeStigg } from './helpers/graphql-server';

let stigg: FakeStigg;
const saved = { key: process.env.STIGG_SERVER_API_KEY, url: process.env.STIGG_API_URL };

beforeAll(async () => {
  stigg = await startFakeStigg({ apiKey: 'env-key-123' });
});
afterAll(() => stigg.close());
beforeEach(() => {
  stigg.reset();
  delete process.env.STIGG_SERVER_API_KEY;
  delete process.env.STIGG_API_URL;
});
afterAll(() => {
  for (const [name, value] of [
    ['STIGG_SERVER_API_KEY', saved.key],
    ['STIGG_API_URL', saved.url],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const query = { customerId: 'customer-demo-01', featureId: 'feature-01-templates' };

describe('Stigg.createClient() and the environment', () => {
  it('reads STIGG_SERVER_API_KEY and STIGG_API_URL when called without arguments', async () => {
    process.env.STIGG_SERVER_API_KEY = 'env-key-123';
    process.env.STIGG_API_URL = stigg.url;
    const entitlement = await Stigg.createClient().getEntitlement(query);
    expect(entitlement.usageLimit).toBe(5);
    expect(stigg.requests[0]?.headers['x-api-key']).toBe('env-key-123');
  });

  it('takes STIGG_API_URL with an explicit key and options, and an explicit apiUrl over the environment', async () => {
    process.env.STIGG_API_URL = stigg.url;
    await Stigg.createClient('env-key-123', { timeoutMs: 2000 }).getEntitlement(query);
    await Stigg.createClient('env-key-123', { apiUrl: undefined }).getEntitlement(query);
    expect(stigg.requests).toHaveLength(2);
    process.env.STIGG_API_URL = 'http://127.0.0.1:9/graphql';
    await Stigg.createClient('env-key-123', { apiUrl: stigg.url }).getEntitlement(query);
    expect(stigg.requests).toHaveLength(3);
  });

  it('throws a TypeError at construction, naming the variable, when the key is missing or blank', () => {
    expect(() => Stigg.createClient()).toThrow(TypeError);
    expect(() => Stigg.createClient()).toThrow(/no API key\. Set STIGG_SERVER_API_KEY/);
    process.env.STIGG_SERVER_API_KEY = '   ';
    expect(() => Stigg.createClient()).toThrow(/STIGG_SERVER_API_KEY is blank/);
    expect(() => Stigg.createClient('')).toThrow(/the API key is blank.*STIGG_SERVER_API_KEY/);
    expect(() => Stigg.createClient(process.env.MISSING_VARIABLE ?? ' ')).toThrow(TypeError);
    expect(() => new StiggClient({} as StiggClientOptions)).toThrow(/apiKey option.*STIGG_SERVER_API_KEY/);
  });

  it('refuses a STIGG_API_URL that is not an http(s) URL', () => {
    process.env.STIGG_SERVER_API_KEY = 'env-key-123';
    process.env.STIGG_API_URL = 'api.stigg.io/graphql';
    expect(() => Stigg.createClient()).toThrow(/STIGG_API_URL must be an absolute http\(s\) URL/);
  });

  it('rejects unknown option keys with a did-you-mean', () => {
    expect(() => Stigg.createClient('k', { timeout: 3000 } as never)).toThrow(
      /"timeout" is not an option of Stigg\.createClient\(\)\. Did you mean "timeoutMs"\?/,
    );
    expect(() => Stigg.createClient('k', { apiKey: 'other' } as never)).toThrow(/"apiKey" is not an option of Stigg\.createClient\(\)/);
    expect(() => new StiggClient({ apiKey: 'k', apiURL: 'http://x' } as never)).toThrow(
      /"apiURL" is not an option of StiggClient\. Did you mean "apiUrl"\?/,
    );
    expect(() => Stigg.createClient('k', [] as never)).toThrow(/options must be an object/);
  });
});
