import { StiggClient, StiggTimeoutError } from '../../src/client';
import { startFakeStigg, type FakeStigg } from './helpers/graphql-server';

// reportUsageBulk(input, { signal }): close() at its deadline ends the call in flight and its
// retries, so a Stigg that never answers cannot keep a process alive for the client's own timeouts.

const API_KEY = 'server-key-0123456789-SECRET';
let stigg: FakeStigg;
beforeAll(async () => {
  stigg = await startFakeStigg({ apiKey: API_KEY });
});
afterAll(() => stigg.close());
beforeEach(() => stigg.reset());

const usages = [{ customerId: 'customer-demo-01', featureId: 'feature-02-campaigns', value: 1, idempotencyKey: 'k-1' }];

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
}

test('an abort while Stigg has not answered rejects at once with an AbortError, and nothing is retried', async () => {
  stigg.fault({ delayMs: 8_000, body: '' });
  const client = new StiggClient({ apiKey: API_KEY, apiUrl: stigg.url, timeoutMs: 20_000, maxRetries: 2 });
  const controller = new AbortController();
  const call = rejection(client.reportUsageBulk({ usages }, { signal: controller.signal }));
  await until(() => stigg.requests.length === 1);
  const abortedAt = Date.now();
  controller.abort();
  const error = await call;
  expect(error).toMatchObject({ name: 'AbortError' });
  expect(error).not.toBeInstanceOf(StiggTimeoutError);
  // The answer would take 8 s; the abort ends the wait well before.
  expect(Date.now() - abortedAt).toBeLessThan(4_000);
  expect(stigg.requests).toHaveLength(1);
});

test('an abort during the wait before a retry ends it: no further attempt', async () => {
  stigg.fault({ status: 503, body: { errors: [{ message: 'Service Unavailable' }] } });
  const client = new StiggClient({ apiKey: API_KEY, apiUrl: stigg.url, maxRetries: 2, retryBaseDelayMs: 8_000, maxRetryDelayMs: 8_000 });
  const controller = new AbortController();
  const call = rejection(client.reportUsageBulk({ usages }, { signal: controller.signal }));
  await until(() => stigg.responses.length === 1);
  controller.abort(new Error('closing'));
  const error = await call;
  expect(error).toMatchObject({ message: 'closing' });
  expect(stigg.requests).toHaveLength(1);
});

test('an aborted signal sends nothing; a signal that is not an AbortSignal, or an unknown option, is a TypeError', async () => {
  const client = new StiggClient({ apiKey: API_KEY, apiUrl: stigg.url });
  expect(await rejection(client.reportUsageBulk({ usages }, { signal: AbortSignal.abort() }))).toMatchObject({ name: 'AbortError' });
  expect(stigg.requests).toHaveLength(0);
  await expect(client.reportUsageBulk({ usages }, { signal: 'stop' as never })).rejects.toThrow(/options.signal must be an AbortSignal/);
  await expect(client.reportUsageBulk({ usages }, { sigal: AbortSignal.abort() } as never)).rejects.toThrow(/signal/);
  expect(stigg.requests).toHaveLength(0);
});
