import { defaultCatalog, startEmulator } from '../../src/emulator';
import { forSuite } from '../support/suite';
import { runScript } from './script';

// While a flush() is waited for, the delay before a delivery is retried holds the process open. A
// server's background delivery is told by Stigg to retry in 8 s (429, Retry-After); its SIGTERM
// handler then awaits entitlements.flush(), and Stigg asks for 8 s once more before it takes the
// usage. The process must stay up through both delays. Were the first delay not held once flush()
// waits for it, or the second not held because it began while flush() waited (the two mutants of
// issue 25), nothing would hold the process: its 'beforeExit' close() gives up after 5 s and the usage
// is handed over undelivered, 3 s before the retry would have sent it.

const CAMPAIGNS = 'feature-02-campaigns';

const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'cust-retry', subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  }),
);

it('SIGTERM awaiting flush() while Stigg asks twice to retry in 8 s: the process waits for both retries and Stigg counts the units', async () => {
  const code = `
import http from 'node:http';
import { Stigg, StiggHttpError, createEntitlements } from 'stigg-gate';
const client = Stigg.createClient();
const deliver = client.reportUsageBulk.bind(client);
let calls = 0;
client.reportUsageBulk = (input) => {
  calls += 1;
  if (calls === 1) console.log('rate-limited');
  return calls <= 2 ? Promise.reject(new StiggHttpError('reportUsageBulk', 429, 8_000)) : deliver(input);
};
// batchSize 1: the report is sent at once, in the background, before any flush().
const entitlements = createEntitlements({ client, usage: { batchSize: 1 } });
const server = http.createServer((req, res) => res.end()).listen(0, '127.0.0.1', () => {
  void entitlements.report({ customerId: 'cust-retry', featureId: '${CAMPAIGNS}', value: 4 });
});
process.once('SIGTERM', () => {
  server.close();
  void entitlements.flush().then(() => console.log('flushed after ' + calls + ' calls'));
});
`;
  const script = await runScript(code, { STIGG_SERVER_API_KEY: emu.apiKey, STIGG_API_URL: emu.url });
  await script.line(/^rate-limited$/);
  script.child.kill('SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([script.exited, new Promise<'running'>((resolve) => (timer = setTimeout(resolve, 40_000, 'running')))]);
  clearTimeout(timer);
  if (exited === 'running') script.child.kill('SIGKILL');
  expect(exited).not.toBe('running');
  expect(exited).toMatchObject({ code: 0, stderr: '' });
  expect((exited as { stdout: string }).stdout).toMatch(/flushed after 3 calls/);
  expect(emu.stats().usage[`cust-retry||${CAMPAIGNS}`]).toBe(4);
}, 60_000);
