import util from 'node:util';
import {
  StiggAuthError,
  StiggClient,
  StiggError,
  StiggGraphQLError,
  StiggHttpError,
  StiggNetworkError,
  StiggTimeoutError,
} from '../../src/client';
import type { StiggClientOptions } from '../../src/client';
import { parseRetryAfter } from '../../src/client/transport';
import { refusedUrl, startFakeStigg } from './helpers/graphql-server';
import type { FakeStigg } from './helpers/graphql-server';

const API_KEY = 'server-key-0123456789-SECRET';
let stigg: FakeStigg;

beforeAll(async () => {
  stigg = await startFakeStigg({ apiKey: API_KEY });
});
afterAll(() => stigg.close());
beforeEach(() => stigg.reset());

function makeClient(options: Partial<StiggClientOptions> = {}): StiggClient {
  return new StiggClient({ apiKey: API_KEY, apiUrl: stigg.url, retryBaseDelayMs: 1, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const query = { customerId: 'customer-demo-01', featureId: 'feature-01-templates' };
const usage = { customerId: 'customer-demo-01', featureId: 'feature-02-campaigns', value: 1 };
const down = { status: 503, body: { errors: [{ message: 'Service Unavailable' }] } };

/** Every string reachable from an error, the way a logger or an error tracker would see it. */
function renderings(error: unknown): string[] {
  const out = [util.inspect(error, { depth: Infinity, showHidden: true }), JSON.stringify(error), String(error)];
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth += 1) {
    out.push(current.message, current.stack ?? '', JSON.stringify(Object.entries(current)));
  }
  return out;
}

describe('StiggClient errors', () => {
  it('turns HTTP 401 UNAUTHENTICATED into StiggAuthError, without retrying', async () => {
    const client = new StiggClient({ apiKey: 'wrong-key', apiUrl: stigg.url, retryBaseDelayMs: 1 });
    const error = await rejection(client.getEntitlement(query));
    expect(error).toBeInstanceOf(StiggAuthError);
    expect(error).toBeInstanceOf(StiggError);
    expect(error).toMatchObject({ status: 401, transient: false, operation: 'getEntitlement' });
    expect(error.cause.response.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(stigg.requests).toHaveLength(1);
    expect(renderings(error).some((text) => text.includes('wrong-key'))).toBe(false);
  });

  it('turns a domain error into StiggGraphQLError with code, path, traceId and errors', async () => {
    const error = await rejection(makeClient().getCustomer('missing'));
    expect(error).toBeInstanceOf(StiggGraphQLError);
    expect(error).toMatchObject({
      code: 'CustomerNotFound',
      path: ['getCustomerByRefId'],
      status: 200,
      transient: false,
    });
    expect(error.traceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.errors[0].extensions).toMatchObject({ identifier: 'missing', isValidationError: true });
    expect(error.message).toContain('Customer not found: missing');
    expect(error.message).toContain(error.traceId);
    expect(stigg.requests).toHaveLength(1);
  });

  it('reports variables that fail coercion (HTTP 400 BAD_USER_INPUT) as a non-transient StiggGraphQLError', async () => {
    const error = await rejection(makeClient().reportUsage({ ...usage, updateBehavior: 'INCREMENT' as never, idempotencyKey: 'k' }));
    expect(error).toBeInstanceOf(StiggGraphQLError);
    expect(error).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', transient: false });
    expect(stigg.requests).toHaveLength(1);
  });

  it('reports an invalid document (HTTP 400 GRAPHQL_VALIDATION_FAILED) as StiggGraphQLError', async () => {
    stigg.fault({
      status: 400,
      body: {
        errors: [{ message: 'Cannot query field "x" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }],
      },
    });
    const error = await rejection(makeClient().getEntitlements({ customerId: 'c' }));
    expect(error).toMatchObject({
      name: 'StiggGraphQLError',
      status: 400,
      code: 'GRAPHQL_VALIDATION_FAILED',
      transient: false,
    });
    expect(stigg.requests).toHaveLength(1);
  });

  it('reports an HTML error page as StiggHttpError with the start of the body in its cause', async () => {
    stigg.fault(
      { status: 502, body: '<html><body>Bad gateway</body></html>' },
      { status: 502, body: '<html>x</html>' },
      { status: 502, body: '<html>x</html>' },
    );
    const error = await rejection(makeClient().getEntitlement(query));
    expect(error).toBeInstanceOf(StiggHttpError);
    expect(error).toMatchObject({ status: 502, transient: true, retryAfterMs: undefined });
    expect(error.cause.response.body).toBe('<html>x</html>');
    expect(stigg.requests).toHaveLength(3);
  });

  it('reports a truncated JSON body as StiggHttpError', async () => {
    stigg.fault({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"data":{"entitlement":' });
    const error = await rejection(makeClient({ maxRetries: 0 }).getEntitlement(query));
    expect(error).toBeInstanceOf(StiggHttpError);
    expect(error).toMatchObject({ status: 200, transient: false });
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('StiggClient retries', () => {
  it('retries a query after a 5xx and resolves with the later answer', async () => {
    stigg.fault(down);
    const entitlement = await makeClient().getEntitlement(query);
    expect(entitlement.currentUsage).toBe(3);
    expect(stigg.requests).toHaveLength(2);
  });

  it('gives up after maxRetries with the last error', async () => {
    stigg.fault(down, down, down);
    const error = await rejection(makeClient({ maxRetries: 2 }).getEntitlement(query));
    expect(error).toMatchObject({ name: 'StiggHttpError', status: 503, transient: true });
    expect(stigg.requests).toHaveLength(3);
    stigg.fault(down);
    await rejection(makeClient({ maxRetries: 0 }).getEntitlement(query));
    expect(stigg.requests).toHaveLength(4);
  });

  it('waits out a Retry-After in seconds before the next attempt', async () => {
    stigg.fault({ status: 429, headers: { 'retry-after': '1' }, body: { errors: [{ message: 'Too Many Requests' }] } });
    const started = Date.now();
    await makeClient().getEntitlements({ customerId: 'customer-demo-01' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(stigg.requests).toHaveLength(2);
  });

  it('stops when Retry-After is longer than maxRetryDelayMs, exposing retryAfterMs', async () => {
    stigg.fault({ status: 503, headers: { 'retry-after': '120' }, body: '' });
    const started = Date.now();
    const error = await rejection(makeClient({ maxRetryDelayMs: 5000 }).getEntitlement(query));
    // Waiting would cost at least the 5 s cap; stopping costs one round trip.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(error).toMatchObject({ name: 'StiggHttpError', status: 503, retryAfterMs: 120_000 });
    expect(stigg.requests).toHaveLength(1);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2024-03-01T10:00:00.000Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Fri, 01 Mar 2024 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Fri, 01 Mar 2024 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('never retries a mutation without an idempotency key once it may have been sent', async () => {
    stigg.fault(down);
    const error = await rejection(makeClient().provisionCustomer({ customerId: 'customer-x' }));
    expect(error).toMatchObject({ name: 'StiggHttpError', status: 503, transient: true });
    expect(stigg.requests).toHaveLength(1);

    stigg.fault(down);
    await rejection(makeClient().reportUsage(usage));
    expect(stigg.requests).toHaveLength(2);

    stigg.fault(down);
    await rejection(makeClient().reportUsageBulk({ usages: [{ ...usage, idempotencyKey: 'k-1' }, usage] }));
    expect(stigg.requests).toHaveLength(3);
  });

  it('retries usage reports that carry idempotency keys, and raw events', async () => {
    stigg.fault(down);
    const single = await makeClient().reportUsage({ ...usage, idempotencyKey: 'k-1' });
    expect(single.currentUsage).toBe(4);
    expect(stigg.requests).toHaveLength(2);
    expect(stigg.requests[1]?.body?.variables).toEqual(stigg.requests[0]?.body?.variables);

    stigg.fault(down);
    const bulk = await makeClient().reportUsageBulk({
      usages: [
        { ...usage, idempotencyKey: 'k-1' },
        { ...usage, idempotencyKey: 'k-2' },
      ],
    });
    expect(bulk).toHaveLength(2);
    expect(stigg.requests).toHaveLength(4);

    stigg.fault(down);
    await makeClient().reportEvent({
      usageEvents: [{ customerId: 'customer-demo-01', eventName: 'login', idempotencyKey: 'e-1' }],
    });
    expect(stigg.requests).toHaveLength(6);
  });

  it('times out a slow answer with StiggTimeoutError and retries a query', async () => {
    stigg.fault({ delayMs: 5000, body: '' }, { delayMs: 5000, body: '' });
    const started = Date.now();
    const entitlement = await makeClient({ timeoutMs: 100 }).getEntitlement(query);
    expect(entitlement.usageLimit).toBe(5);
    expect(stigg.requests).toHaveLength(3);
    // Waiting for either slow answer would cost 5 s.
    expect(Date.now() - started).toBeLessThan(4000);

    stigg.fault({ delayMs: 1000, body: '' });
    const error = await rejection(makeClient({ timeoutMs: 100 }).updateCustomer({ customerId: 'c', name: 'n' }));
    expect(error).toBeInstanceOf(StiggTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 100, transient: true, operation: 'updateCustomer' });
    expect(stigg.requests).toHaveLength(4);
  });

  it('retries a mutation when the connection was refused (the request never left)', async () => {
    const url = await refusedUrl();
    let attempts = 0;
    const countingFetch: typeof fetch = (input, init) => {
      attempts += 1;
      return fetch(input, init);
    };
    const error = await rejection(
      new StiggClient({ apiKey: API_KEY, apiUrl: url, fetch: countingFetch, retryBaseDelayMs: 1 }).provisionCustomer({
        customerId: 'c',
      }),
    );
    expect(error).toBeInstanceOf(StiggNetworkError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', requestSent: false, transient: true });
    expect(attempts).toBe(3);
  });

  it('does not retry a mutation whose connection dropped after the request was sent', async () => {
    stigg.fault({ drop: true });
    const error = await rejection(makeClient().provisionSubscription({ customerId: 'c', planId: 'plan-revvenu-basic' }));
    expect(error).toBeInstanceOf(StiggNetworkError);
    expect(error.requestSent).toBe(true);
    expect(stigg.requests).toHaveLength(1);

    stigg.fault({ drop: true });
    await makeClient().getSubscription('subscription-1');
    expect(stigg.requests).toHaveLength(3);
  });

  it('logs each retry at debug level through the injected logger', async () => {
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const logger = {
      debug: (meta: Record<string, unknown>, m: string) => lines.push([m, meta]),
      warn: () => undefined,
      error: () => undefined,
    };
    stigg.fault(down, down);
    await makeClient({ logger }).getEntitlement(query);
    expect(lines).toHaveLength(2);
    expect(lines[0]?.[0]).toMatch(/^stigg: retrying getEntitlement in \d+ ms$/);
    expect(lines[1]?.[1]).toMatchObject({
      operation: 'getEntitlement',
      attempt: 2,
      maxRetries: 2,
      error: 'StiggHttpError',
    });
    expect(JSON.stringify(lines)).not.toContain(API_KEY);
  });
});

describe('the API key stays secret', () => {
  it('is absent from every error, its cause chain, and the client object', async () => {
    const errors: unknown[] = [];
    const leakyFetch: typeof fetch = async (_input, init) => {
      const failure = Object.assign(new Error(`socket hang up while sending ${JSON.stringify(init?.headers)}`), {
        code: 'ECONNRESET',
        request: { headers: init?.headers },
        cause: Object.assign(new Error(`inner ${API_KEY}`), { config: { apiKey: API_KEY } }),
      });
      throw failure;
    };
    errors.push(await rejection(makeClient({ fetch: leakyFetch, maxRetries: 0 }).getEntitlement(query)));
    errors.push(await rejection(makeClient().getCustomer('missing')));
    stigg.fault({ status: 500, body: { errors: [{ message: `echo ${API_KEY}`, extensions: { header: API_KEY } }] } });
    errors.push(await rejection(makeClient({ maxRetries: 0 }).getEntitlement(query)));
    stigg.fault({
      status: 400,
      body: { errors: [{ message: `bad key ${API_KEY}`, extensions: { code: 'BAD_USER_INPUT', got: [API_KEY] } }] },
    });
    errors.push(await rejection(makeClient().getEntitlement(query)));
    stigg.fault({ delayMs: 500, body: '' });
    errors.push(await rejection(makeClient({ timeoutMs: 50, maxRetries: 0 }).getEntitlement(query)));
    errors.push(await rejection(new StiggClient({ apiKey: API_KEY, apiUrl: await refusedUrl(), maxRetries: 0 }).getEntitlement(query)));

    expect(errors.map((e) => (e as Error).name)).toEqual([
      'StiggNetworkError',
      'StiggGraphQLError',
      'StiggHttpError',
      'StiggGraphQLError',
      'StiggTimeoutError',
      'StiggNetworkError',
    ]);
    expect((errors[0] as StiggNetworkError).code).toBe('ECONNRESET');
    expect((errors[3] as StiggGraphQLError).message).toContain('bad key [redacted]');
    for (const error of errors) {
      for (const text of renderings(error)) expect(text).not.toContain(API_KEY);
    }
    const client = makeClient();
    expect(util.inspect(client, { depth: Infinity, showHidden: true })).not.toContain(API_KEY);
    expect(JSON.stringify(client)).not.toContain(API_KEY);
  });
});
