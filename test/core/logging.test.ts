import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import pino from 'pino';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementUnavailableError } from '../../src/core/errors';
import { CAMPAIGNS, customer, startRig, TEMPLATES, closedAfterEach } from './helpers';
import { forSuite } from '../support/suite';

const run = promisify(execFile);
const opened = closedAfterEach({ timeoutMs: 200 });

/** A real pino logger writing its JSON lines here. */
function capturedPino(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (chunk: string) => void lines.push(JSON.parse(chunk) as Record<string, unknown>) });
  return { logger, lines };
}

function wrongKeyClient(): StiggClient {
  return new StiggClient({ apiKey: 'wrong-key-0123456789', apiUrl: rig.emulator.url, maxRetries: 0 });
}

function attempt<T>(call: () => T | Promise<T>): Promise<T> {
  return Promise.resolve().then(call);
}

const rig = forSuite(() => startRig([customer('logged', 'plan-revvenu-basic')], {}, { maxRetries: 0 }));
test('a rejected API key is logged once at error through pino, with its cause and fix as fields, then rate-limited', async () => {
  const { logger, lines } = capturedPino();
  let now = Date.now();
  const entitlements = createEntitlements({ client: wrongKeyClient(), logger, now: () => now, circuitBreaker: { failureThreshold: 1000 } });
  opened.push(entitlements);
  for (let i = 0; i < 5; i += 1) {
    await expect(attempt(() => entitlements.check({ customerId: 'logged', featureId: TEMPLATES }))).rejects.toBeInstanceOf(
      EntitlementUnavailableError,
    );
  }
  expect(lines).toHaveLength(1);
  const [line] = lines;
  expect(line).toMatchObject({ level: 50, category: 'auth', operation: 'getEntitlementsState' });
  expect(line?.['cause']).toMatch(/rejected the API key \(HTTP 401\)/);
  expect(line?.['fix']).toMatch(/server API key/);
  expect(line?.['msg']).toMatch(/^stigg-gate: Stigg rejected the API key \(HTTP 401\) during getEntitlementsState\. /);
  expect(JSON.stringify(lines)).not.toContain('wrong-key-0123456789');
  now += 61_000;
  await expect(attempt(() => entitlements.check({ customerId: 'logged', featureId: CAMPAIGNS }))).rejects.toBeInstanceOf(
    EntitlementUnavailableError,
  );
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatchObject({ level: 40, category: 'auth', suppressed: 4 });
});

test("fail-open names the real cause: Stigg answered 401, not 'unreachable'", async () => {
  const { logger, lines } = capturedPino();
  const entitlements = createEntitlements({ client: wrongKeyClient(), logger, failMode: 'open' });
  opened.push(entitlements);
  expect(await entitlements.check({ customerId: 'logged', featureId: TEMPLATES })).toMatchObject({ granted: true, source: 'fail-open' });
  const warning = lines.find((line) => line['level'] === 40);
  expect(warning).toMatchObject({ featureId: TEMPLATES });
  expect(warning?.['msg']).toBe('Stigg rejected the API key (HTTP 401) and nothing cached: granting access (failMode: open)');
  expect(JSON.stringify(lines)).not.toMatch(/unreachable/);
});

test('a network failure is its own category, logged once at error as well', async () => {
  const { logger, lines } = capturedPino();
  const client = new StiggClient({ apiKey: rig.emulator.apiKey, apiUrl: 'http://127.0.0.1:1/graphql', maxRetries: 0 });
  const entitlements = createEntitlements({ client, logger, circuitBreaker: { failureThreshold: 1000 } });
  opened.push(entitlements);
  for (let i = 0; i < 3; i += 1)
    await attempt(() => entitlements.check({ customerId: 'logged', featureId: TEMPLATES })).catch(() => undefined);
  expect(lines.map((line) => [line['level'], line['category']])).toEqual([[50, 'network']]);
  expect(lines[0]?.['cause']).toMatch(/^Stigg unreachable/);
});

test('without a logger a rejected API key is still not silent: one process warning on stderr', async () => {
  // A real Node process (jest's sandbox does not deliver process warnings), the core bundled from
  // src; its upstream asks the emulator with a wrong key and fails as the client does on a 401.
  const dir = await mkdtemp(path.join(tmpdir(), 'stigg-gate-warning-'));
  const entry = path.join(dir, 'entry.ts');
  await writeFile(
    entry,
    `import { createEntitlements } from ${JSON.stringify(path.resolve(__dirname, '../../src/core'))};
const client = {
  async getEntitlement() {
    const response = await fetch(process.env.URL as string, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'wrong-key-0123456789' }, body: '{"query":"{ __typename }"}' });
    throw Object.assign(new Error('Stigg rejected the API key (HTTP ' + response.status + ')'), { name: 'StiggAuthError', status: response.status, transient: false });
  },
  async reportUsageBulk() { return []; },
};
const entitlements = createEntitlements({ client });
(async () => {
  for (let i = 0; i < 3; i += 1) await Promise.resolve().then(() => entitlements.check({ customerId: 'logged', featureId: 'feature-01-templates' })).catch(() => undefined);
  await entitlements.close({ timeoutMs: 100 });
})();
`,
  );
  const bundle = path.join(dir, 'bundle.js');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', outfile: bundle, logLevel: 'silent' });
  const { stderr } = await run(process.execPath, [bundle], { env: { ...process.env, URL: rig.emulator.url } });
  const warnings = stderr.split('\n').filter((line) => line.includes('StiggGateWarning'));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/Stigg rejected the API key \(HTTP 401\) during getEntitlement/);
  expect(stderr).not.toContain('wrong-key-0123456789');
  await rm(dir, { recursive: true, force: true });
});
