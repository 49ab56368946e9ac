import { StiggAuthError, StiggClient, StiggHttpError, StiggNetworkError } from '../../src/client';
import { defaultCatalog, startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator';
import { buildSchema, execute, parse } from 'graphql';
import { STIGG_SCHEMA_SDL } from '../../src/client/generated/schema';
import { EmulatorState } from '../../src/emulator';
import { createRootValue } from '../../src/emulator/schema';
import { clientFor, ENTITLEMENT, post, PROVISION_CUSTOMER, REPORT_USAGE, T0 } from './helpers';

describe('emulator wire behaviour', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ now: () => T0 });
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.reset());

  it('listens on a free port of 127.0.0.1 by default', () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(emulator.apiKey).toBe('emulator-server-key');
  });

  it('refuses a missing or wrong X-API-KEY with HTTP 401 and UNAUTHENTICATED, the way Stigg does', async () => {
    const expected = {
      status: 401,
      data: null,
      errors: [{ message: 'Unauthorized', extensions: { code: 'UNAUTHENTICATED' } }],
    };
    expect(await post(emulator, ENTITLEMENT, { query: { customerId: 'c', featureId: 'f' } }, {})).toEqual(expected);
    expect(await post(emulator, ENTITLEMENT, { query: { customerId: 'c', featureId: 'f' } }, { 'x-api-key': 'wrong' })).toEqual(expected);
    const client = new StiggClient({ apiKey: 'wrong', apiUrl: emulator.url, maxRetries: 0 });
    await expect(client.getEntitlement({ customerId: 'c', featureId: 'f' })).rejects.toBeInstanceOf(StiggAuthError);
    expect(emulator.stats().operations).toEqual({});
  });

  it('accepts the key as the apiKey query parameter too (as the introspection docs show)', async () => {
    const res = await fetch(`${emulator.url}?apiKey=${emulator.apiKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __schema { queryType { name } mutationType { name } } }' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      data: { __schema: { queryType: { name: 'Query' }, mutationType: { name: 'Mutation' } } },
    });
  });

  it('answers a domain error with HTTP 200, data null, path, code, identifier and traceId', async () => {
    const res = await post(emulator, 'query Q($input: GetCustomerByRefIdInput!) { getCustomerByRefId(input: $input) { customerId } }', {
      input: { customerId: 'ghost' },
    });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ getCustomerByRefId: null });
    expect(res.errors).toEqual([
      {
        message: 'Customer not found: ghost',
        locations: [{ line: 1, column: 45 }],
        path: ['getCustomerByRefId'],
        extensions: {
          code: 'CustomerNotFound',
          isValidationError: true,
          identifier: 'ghost',
          traceId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        },
      },
    ]);
  });

  it('answers invalid documents with HTTP 400 and graphql-js validation errors', async () => {
    const invalid = await post(emulator, '{ entitlement(query: { customerId: "c", featureId: "f" }) { nope } }');
    expect(invalid.status).toBe(400);
    expect(invalid.errors).toEqual([
      {
        message: 'Cannot query field "nope" on type "Entitlement".',
        locations: [{ line: 1, column: 61 }],
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
    ]);
    const unparsable = await post(emulator, '{ entitlement(');
    expect(unparsable.status).toBe(400);
    expect(unparsable.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect((await post(emulator, 'mutation { provisionCustomer(input: {}) }')).errors?.[0]?.message).toMatch(
      /must have a selection of subfields/,
    );
  });

  it('answers variables that fail coercion with HTTP 400 BAD_USER_INPUT', async () => {
    const res = await post(emulator, ENTITLEMENT, { query: { customerId: 5, featureId: 'f' } });
    expect(res.status).toBe(400);
    expect(res.errors?.[0]).toMatchObject({
      message: expect.stringContaining('String cannot represent a non string value: 5'),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const missing = await post(emulator, ENTITLEMENT, {});
    expect(missing.status).toBe(400);
    expect(missing.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers malformed requests and other routes with clear errors', async () => {
    const headers = { 'content-type': 'application/json', 'x-api-key': emulator.apiKey };
    const notJson = await fetch(emulator.url, { method: 'POST', headers, body: '{"query":' });
    expect(notJson.status).toBe(400);
    const noQuery = await fetch(emulator.url, { method: 'POST', headers, body: '{}' });
    expect(noQuery.status).toBe(400);
    expect((await fetch(emulator.url)).status).toBe(405);
    expect((await fetch(emulator.url.replace('/graphql', '/nope'))).status).toBe(404);
  });

  it('stats() and GET /stats count requests, operations and DELTA usage exactly', async () => {
    await post(emulator, PROVISION_CUSTOMER, {
      input: { customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } },
    });
    await post(
      emulator,
      `mutation { a: reportUsage(input: { customerId: "c", featureId: "feature-02-campaigns", value: 2 }) { id }
                                     b: reportUsage(input: { customerId: "c", featureId: "feature-02-campaigns", value: 1 }) { id } }`,
    );
    await post(emulator, REPORT_USAGE, {
      input: { customerId: 'c', featureId: 'feature-01-templates', value: 5, updateBehavior: 'SET' },
    });
    await post(emulator, REPORT_USAGE, {
      input: { customerId: 'c', featureId: 'feature-01-templates', value: 1, idempotencyKey: 'once' },
    });
    await post(emulator, REPORT_USAGE, {
      input: { customerId: 'c', featureId: 'feature-01-templates', value: 1, idempotencyKey: 'once' },
    });
    await post(emulator, ENTITLEMENT, { query: { customerId: 'c', featureId: 'feature-02-campaigns' } });
    await post(emulator, ENTITLEMENT, { query: { customerId: 'c', featureId: 'feature-02-campaigns' } }, {});
    await post(emulator, '{ nope }');
    const expected = {
      requests: 8,
      operations: { provisionCustomer: 1, reportUsage: 5, entitlement: 1 },
      faults: { http5xx: 0, dropped: 0 },
      usage: { 'c||feature-02-campaigns': 3, 'c||feature-01-templates': 1 },
      webhooks: { deliveries: [], failed: 0 },
      checkReports: { calls: 0, reports: 0, granted: 0, denied: 0 },
    };
    expect(emulator.stats()).toEqual(expected);
    const stats = emulator.url.replace('/graphql', '/stats');
    expect((await fetch(stats)).status).toBe(401);
    expect((await fetch(stats, { headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
    const res = await fetch(stats, { headers: { 'x-api-key': emulator.apiKey } });
    expect(await res.json()).toEqual(expected);
    expect(await (await fetch(`${stats}?apiKey=${emulator.apiKey}`)).json()).toEqual(expected);
    const snapshot = emulator.stats();
    snapshot.operations.entitlement = 99;
    expect(emulator.stats().operations.entitlement).toBe(1);
    emulator.reset();
    expect(emulator.stats()).toEqual({
      requests: 0,
      operations: {},
      faults: { http5xx: 0, dropped: 0 },
      usage: {},
      webhooks: { deliveries: [], failed: 0 },
      checkReports: { calls: 0, reports: 0, granted: 0, denied: 0 },
    });
  });

  it('serves 1,000 concurrent requests through the client without errors', async () => {
    // A generous client timeout: 1,000 sockets opened at once on a shared 2-core machine; what is asserted is that none fails.
    const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0, timeoutMs: 30_000 });
    await client.provisionCustomer({ customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-growth' } });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        i % 2 === 0
          ? client.getEntitlement({
              customerId: 'c',
              featureId: 'feature-02-campaigns',
              options: { requestedUsage: 1 },
            })
          : client.reportUsage({
              customerId: 'c',
              featureId: 'feature-01-templates',
              value: 1,
              idempotencyKey: `k-${i}`,
            }),
      ),
    );
    const elapsed = performance.now() - started;
    expect(results).toHaveLength(1_000);
    expect(results.filter((r) => 'isGranted' in r && r.isGranted)).toHaveLength(500);
    expect(emulator.stats()).toMatchObject({
      requests: 1_001,
      operations: { provisionCustomer: 1, entitlement: 500, reportUsage: 500 },
      usage: { 'c||feature-01-templates': 500 },
    });
    expect(elapsed).toBeLessThan(60_000);
  }, 90_000);
});

describe('emulator fault injection', () => {
  type Outcome = 'ok' | '503' | 'dropped';

  async function outcomes(emulator: Emulator, n: number): Promise<Outcome[]> {
    const seen: Outcome[] = [];
    for (let i = 0; i < n; i += 1) {
      try {
        const res = await post(emulator, ENTITLEMENT, {
          query: { customerId: 'c', featureId: 'feature-01-templates' },
        });
        seen.push(res.status === 503 ? '503' : 'ok');
      } catch {
        seen.push('dropped');
      }
    }
    return seen;
  }

  it('a seed makes the failures repeat: same seed same sequence, reset reseeds, another seed differs', async () => {
    const a = await startEmulator({ failureRate: 0.4, seed: 42 });
    const b = await startEmulator({ failureRate: 0.4, seed: 42 });
    const c = await startEmulator({ failureRate: 0.4, seed: 43 });
    try {
      const first = await outcomes(a, 60);
      expect(await outcomes(b, 60)).toEqual(first);
      expect(await outcomes(c, 60)).not.toEqual(first);
      const count = (o: Outcome): number => first.filter((x) => x === o).length;
      expect(count('503')).toBeGreaterThan(0);
      expect(count('dropped')).toBeGreaterThan(0);
      expect(count('ok')).toBeGreaterThan(20);
      expect(a.stats()).toMatchObject({
        requests: 60,
        faults: { http5xx: count('503'), dropped: count('dropped') },
        operations: { entitlement: count('ok') },
      });
      a.reset();
      expect(await outcomes(a, 60)).toEqual(first);
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });

  it('the client sees injected faults as transient errors', async () => {
    const emulator = await startEmulator({ failureRate: 1, seed: 5 });
    const client = clientFor(emulator);
    try {
      const errors = await Promise.all(
        Array.from({ length: 10 }, () => client.getEntitlement({ customerId: 'c', featureId: 'f' }).catch((e: unknown) => e)),
      );
      expect(errors.every((e) => e instanceof StiggHttpError || e instanceof StiggNetworkError)).toBe(true);
      expect(errors.every((e) => (e as StiggHttpError).transient)).toBe(true);
      expect(errors.some((e) => e instanceof StiggHttpError && e.status === 503)).toBe(true);
    } finally {
      await emulator.stop();
    }
  });

  it('setFaults adds latency and turns failures off again', async () => {
    const emulator = await startEmulator({ failureRate: 1 });
    try {
      emulator.setFaults({ failureRate: 0, latencyMs: 120 });
      const started = performance.now();
      const res = await post(emulator, ENTITLEMENT, { query: { customerId: 'c', featureId: 'f' } });
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(110);
      expect(() => emulator.setFaults({ failureRate: 2 })).toThrow(
        '2 is not a valid value for failureRate. Please choose a number from 0 to 1.',
      );
    } finally {
      await emulator.stop();
    }
  });
});

describe('startEmulator options', () => {
  it.each([
    [{ port: -1 }, 'port'],
    [{ port: 1.5 }, 'port'],
    [{ failureRate: 1.5 }, 'failureRate'],
    [{ latencyMs: -5 }, 'latencyMs'],
    [{ apiKey: '' }, 'apiKey'],
    [{ host: 42 }, 'host'],
    [{ seed: Number.NaN }, 'seed'],
    [{ now: 'yesterday' }, 'now'],
    [{ catalog: 42 }, 'catalog'],
  ])('rejects %j with a TypeError naming %s', async (options, name) => {
    await expect(startEmulator(options as unknown as EmulatorOptions)).rejects.toThrow(TypeError);
    await expect(startEmulator(options as unknown as EmulatorOptions)).rejects.toThrow(name);
  });

  it('never mutates the options or the catalog it was given, and stop() is idempotent', async () => {
    const catalogBefore = JSON.stringify(defaultCatalog);
    const options = Object.freeze({ port: 0, apiKey: 'k', catalog: defaultCatalog, seed: 3 });
    const emulator = await startEmulator(options);
    const client = clientFor(emulator);
    await client.provisionCustomer({
      customerId: 'c',
      subscriptionParams: { planId: 'plan-revvenu-basic', addons: [{ addonId: 'addon-10-campaigns' }] },
    });
    emulator.state.publishPlan({ ...defaultCatalog.plans[0]!, displayName: 'Changed' });
    expect(JSON.stringify(defaultCatalog)).toBe(catalogBefore);
    await Promise.all([emulator.stop(), emulator.stop()]);
    await expect(fetch(emulator.url, { method: 'POST' })).rejects.toThrow();
  });
});

describe('schema coverage', () => {
  it('answers every root field of the schema: modelled ones from the state, the others with NOT_MODELLED naming the operation', async () => {
    const state = new EmulatorState(defaultCatalog, { now: () => T0, set: () => undefined, advance: () => undefined });
    const extended = buildSchema(`${STIGG_SCHEMA_SDL}\nextend type Query { experiments: [String!]! }`);
    const root = createRootValue(state, extended);
    expect(Object.keys(root)).toEqual(
      expect.arrayContaining(['cachedEntitlements', 'entitlement', 'provisionSubscriptionV2', 'reportEvent', 'experiments', 'paywall']),
    );
    const result = await execute({
      schema: extended,
      document: parse('query ListExperiments { experiments }'),
      rootValue: root,
    });
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.message).toBe(
      'ListExperiments (experiments): the Stigg emulator does not model experiments; see docs/emulator.md for what it models.',
    );
    expect(result.errors?.[0]?.extensions).toMatchObject({
      code: 'NOT_MODELLED',
      isValidationError: false,
      identifier: 'experiments',
    });
    expect(state.stats().operations).toEqual({ experiments: 1 });
  });
});
