import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { forSuite } from '../support/suite';
import { runScript } from './script';

// A job or script that ends without close() delivers its usage before the process exits (the
// engine's 'beforeExit' hook), and says what is left when it cannot: never lost in silence.

const CAMPAIGNS = 'feature-02-campaigns';

/** The example of docs/decorators.md as written: the block that defines nightlyJob. */
function nightlyJobExample(): string {
  const text = readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'decorators.md'), 'utf8');
  const block = [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)]
    .map((match) => match[1] as string)
    .find((code) => code.includes('nightlyJob'));
  if (block === undefined) throw new Error('docs/decorators.md has no nightlyJob example');
  return block;
}

const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'cust-job', subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  }),
);
beforeEach(() => emu.reset());

function env(): Record<string, string> {
  return { STIGG_SERVER_API_KEY: emu.apiKey, STIGG_API_URL: emu.url };
}

it("docs/decorators.md's nightlyJob, run as a script that never calls close(): Stigg counts its 3 units", async () => {
  const script = await runScript(`${nightlyJobExample()}\nvoid nightlyJob('cust-job');\n`, env());
  const exited = await script.exited;
  expect(exited).toMatchObject({ code: 0, stderr: '' });
  expect(emu.stats().usage[`cust-job||${CAMPAIGNS}`]).toBe(3);
});

it('Stigg down at the end: the process still exits, with a warning that names what was not delivered', async () => {
  const code = `
import { Stigg, createEntitlements } from 'stigg-gate';
const client = Stigg.createClient();
// Stigg answers decisions, then goes down before the usage is delivered.
client.reportUsageBulk = () => Promise.reject(Object.assign(new Error('Stigg unreachable'), { transient: true }));
const entitlements = createEntitlements({ client });
void (async () => {
  const lease = await entitlements.acquire({ customerId: 'cust-job', featureId: '${CAMPAIGNS}', requestedUsage: 3 });
  lease.commit();
})();
`;
  const script = await runScript(code, env());
  const exited = await script.exited;
  expect(exited.code).toBe(0);
  expect(exited.stderr).toMatch(/StiggGateWarning: stigg-gate: 1 usage report \(3 units\) not delivered to Stigg/);
  expect(emu.stats().usage[`cust-job||${CAMPAIGNS}`] ?? 0).toBe(0);
});
