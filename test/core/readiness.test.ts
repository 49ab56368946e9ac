import { createServer, type Server } from 'node:net';
import { StiggClient, StiggGraphQLError } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementsClosedError } from '../../src/core/errors';
import { NotReadyError } from '../../src/core/readiness';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { forSuite } from '../support/suite';

// ready(): one cheap read against the real client and emulator over HTTP, and each way it can fail.
const opened: Entitlements[] = [];

const emulator = forSuite(() => startEmulator({ port: 0, catalog: defaultCatalog }));
afterEach(async () => {
  emulator.setFaults({ latencyMs: 0, failureRate: 0 });
  await Promise.all(opened.splice(0).map((entitlements) => entitlements.close({ timeoutMs: 100 })));
});

function gate(apiKey: string, apiUrl: string): Entitlements {
  const entitlements = createEntitlements({ client: new StiggClient({ apiKey, apiUrl, maxRetries: 0 }) });
  opened.push(entitlements);
  return entitlements;
}

async function failure(promise: Promise<void>): Promise<NotReadyError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NotReadyError);
  return error as NotReadyError;
}

const requests = () => emulator.stats().requests;

test('the right key at the right URL: resolves after one read', async () => {
  const before = requests();
  await gate(emulator.apiKey, emulator.url).ready();
  expect(requests() - before).toBe(1);
});

test('a wrong key: rejects after one round trip with the fix', async () => {
  const before = requests();
  const error = await failure(gate('server-wrong-key', emulator.url).ready());
  expect(error.reason).toBe('auth');
  expect(error.message).toMatch(/server API key \(STIGG_SERVER_API_KEY/);
  expect(requests() - before).toBe(1);
});

test('a URL where no GraphQL endpoint is: not-found, naming apiUrl', async () => {
  const error = await failure(gate(emulator.apiKey, `${new URL(emulator.url).origin}/nothing-here`).ready());
  expect(error.reason).toBe('not-found');
  expect(error.message).toMatch(/apiUrl/);
});

test('an unreachable URL: unreachable (refused at once, not waited out as a timeout)', async () => {
  const port = await new Promise<number>((resolve) => {
    const server: Server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolve(free));
    });
  });
  const error = await failure(gate(emulator.apiKey, `http://127.0.0.1:${port}/graphql`).ready({ timeoutMs: 30_000 }));
  expect(error.reason).toBe('unreachable');
});

test('Stigg slower than timeoutMs: timeout', async () => {
  emulator.setFaults({ latencyMs: 3000 });
  const error = await failure(gate(emulator.apiKey, emulator.url).ready({ timeoutMs: 100 }));
  expect(error.reason).toBe('timeout');
  expect(error.message).toMatch(/longer timeoutMs/);
});

test('bad options throw with the fix; after close() it rejects as closed', async () => {
  const entitlements = gate(emulator.apiKey, emulator.url);
  await expect(entitlements.ready({ timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
  await expect(entitlements.ready({ timeout: 10 } as never)).rejects.toThrow(/Did you mean "timeoutMs"/);
  await entitlements.close();
  await expect(entitlements.ready()).rejects.toBeInstanceOf(EntitlementsClosedError);
});

test("Stigg answering the probe's customer with a GraphQL error (CustomerNotFound) is an answer: ready; UNAUTHENTICATED is not", async () => {
  const upstream = (code: string) => ({
    getEntitlement: () => Promise.reject(new Error('not used')),
    getEntitlementsState: () =>
      Promise.reject(new StiggGraphQLError('getEntitlementsState', 200, [{ message: 'no such customer', extensions: { code } }])),
    reportUsageBulk: () => Promise.resolve([]),
  });
  const found = createEntitlements({ client: upstream('CustomerNotFound') });
  const refused = createEntitlements({ client: upstream('UNAUTHENTICATED') });
  opened.push(found, refused);
  await expect(found.ready()).resolves.toBeUndefined();
  expect((await failure(refused.ready())).reason).toBe('auth');
});
