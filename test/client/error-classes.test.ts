/**
 * Which failures are worth another try (issue 12, item 2): Apollo-style HTTP 200 answers with
 * `errors[].extensions.code = INTERNAL_SERVER_ERROR` and other server-side or unknown codes are
 * transient; Stigg's domain codes and request errors are permanent. And the key stays out of
 * every error, including GraphQL `path` entries and keys inside `extensions` (item 15).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import util from 'node:util';
import { StiggAuthError, StiggClient, StiggGraphQLError, StiggNetworkError } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { startFakeStigg } from './helpers/graphql-server';
import type { FakeStigg } from './helpers/graphql-server';

const API_KEY = 'sk-live-HOSTILE-0123456789';
let stigg: FakeStigg;

beforeAll(async () => {
  stigg = await startFakeStigg({ apiKey: API_KEY });
});
afterAll(() => stigg.close());
beforeEach(() => stigg.reset());

const client = (maxRetries = 0): StiggClient => new StiggClient({ apiKey: API_KEY, apiUrl: stigg.url, retryBaseDelayMs: 1, maxRetries });
const query = { customerId: 'customer-demo-01', featureId: 'feature-01-templates' };
const answer = (code: string | undefined, status = 200) => ({
  status,
  body: {
    data: null,
    errors: [
      {
        message: `failed (${code ?? 'no code'})`,
        path: ['entitlement'],
        extensions: code === undefined ? {} : { code },
      },
    ],
  },
});

async function failure(promise: Promise<unknown>): Promise<any> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('transient or permanent', () => {
  it.each([
    ['INTERNAL_SERVER_ERROR'],
    ['SERVICE_UNAVAILABLE'],
    ['RateLimitExceeded'],
    ['UnexpectedError'],
    ['SOME_CODE_STIGG_ADDS_LATER'],
    [undefined],
  ])('HTTP 200 with code %s is a transient StiggGraphQLError, and a query is retried', async (code) => {
    stigg.fault(answer(code));
    const error = await failure(client().getEntitlement(query));
    expect(error).toBeInstanceOf(StiggGraphQLError);
    expect(error).toMatchObject({ status: 200, transient: true, code });
    stigg.fault(answer(code));
    expect((await client(1).getEntitlement(query)).usageLimit).toBe(5);
    expect(stigg.requests).toHaveLength(3);
  });

  it.each([
    ['CustomerNotFound', 200],
    ['FeatureNotFound', 200],
    ['BadUserInput', 200],
    ['GRAPHQL_VALIDATION_FAILED', 400],
    ['GRAPHQL_PARSE_FAILED', 400],
    ['BAD_USER_INPUT', 400],
    [undefined, 400],
  ])('code %s (HTTP %s) is a permanent StiggGraphQLError, never retried', async (code, status) => {
    stigg.fault(answer(code, status));
    const error = await failure(client(2).getEntitlement(query));
    expect(error).toBeInstanceOf(StiggGraphQLError);
    expect(error).toMatchObject({ status, transient: false });
    expect(stigg.requests).toHaveLength(1);
  });

  it('a body that breaks off midway is a transient StiggNetworkError (the request was sent)', async () => {
    let hits = 0;
    const server = http.createServer((_req, res) => {
      hits += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"data":{"entitlement":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
      const error = await failure(
        new StiggClient({ apiKey: API_KEY, apiUrl: url, maxRetries: 1, retryBaseDelayMs: 1 }).getEntitlement(query),
      );
      expect(error).toBeInstanceOf(StiggNetworkError);
      expect(error).toMatchObject({ transient: true, requestSent: true });
      expect(hits).toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is transient when any of several errors is', async () => {
    stigg.fault({
      status: 200,
      body: {
        data: null,
        errors: [
          { message: 'a', extensions: { code: 'CustomerNotFound' } },
          { message: 'b', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
        ],
      },
    });
    expect(await failure(client().getEntitlement(query))).toMatchObject({ code: 'CustomerNotFound', transient: true });
  });

  it('keeps usage that met an Apollo-style INTERNAL_SERVER_ERROR in the core outbox and delivers it later', async () => {
    const entitlements = createEntitlements({ client: client() });
    const dropped: unknown[] = [];
    entitlements.on('usage:dropped', (report) => dropped.push(report));
    try {
      await entitlements.report({ customerId: 'customer-demo-01', featureId: 'feature-02-campaigns', value: 2 });
      stigg.fault({
        status: 200,
        body: {
          data: null,
          errors: [{ message: 'Unexpected error value: "boom"', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        },
      });
      await entitlements.flush();
    } finally {
      await entitlements.close();
    }
    expect(dropped).toEqual([]);
    const delivered = stigg.requests.filter((r) => r.resolved.reportUsageBulk !== undefined);
    expect(delivered).toHaveLength(1);
    expect(stigg.requests.length).toBeGreaterThanOrEqual(2);
    expect(stigg.requests.at(-1)?.body?.variables).toEqual(stigg.requests[0]?.body?.variables);
  });
});

describe('the key never appears in an error', () => {
  it('is cut out of messages, path entries, extension keys and values, and the cause', async () => {
    stigg.fault({
      status: 200,
      body: {
        data: null,
        errors: [
          {
            message: `no customer for key ${API_KEY}`,
            path: ['entitlement', API_KEY, 0],
            extensions: {
              code: 'CustomerNotFound',
              [API_KEY]: 'echo',
              [`x-${API_KEY}`]: { [API_KEY]: [API_KEY] },
              traceId: API_KEY,
            },
          },
        ],
      },
    });
    const error = await failure(client().getEntitlement(query));
    expect(error).toBeInstanceOf(StiggGraphQLError);
    expect(error.path).toEqual(['entitlement', '[redacted]', 0]);
    expect(Object.keys(error.errors[0].extensions)).toEqual(['code', '[redacted]', 'x-[redacted]', 'traceId']);
    const rendered = [
      util.inspect(error, { depth: Infinity, showHidden: true }),
      JSON.stringify(error),
      JSON.stringify(error.errors),
      String(error),
      error.stack,
      util.inspect(error.cause, { depth: Infinity }),
    ];
    for (const text of rendered) expect(text).not.toContain(API_KEY);
  });

  it('says which key to check when Stigg rejects it', async () => {
    const error = await failure(new StiggClient({ apiKey: 'wrong-key', apiUrl: stigg.url }).getEntitlement(query));
    expect(error).toBeInstanceOf(StiggAuthError);
    expect(error.message).toMatch(/check the server API key \(STIGG_SERVER_API_KEY\)/);
    stigg.fault(answer('Unauthenticated'));
    expect(await failure(client().getEntitlement(query))).toBeInstanceOf(StiggAuthError);
  });
});
