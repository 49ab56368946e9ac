import http from 'node:http';
import type net from 'node:net';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { runScript } from './script';

// A job ends without close() while Stigg takes the usage call and never answers (a hung load
// balancer). The 'beforeExit' hook gives delivery 5 s; at that deadline close() now aborts the call
// in flight (reportUsageBulk's signal) instead of waiting for the client's own timeouts (3 × 5 s):
// the process used to stay ~15 s after its work ended. The units are named in a warning, not lost in silence.

jest.setTimeout(120_000);

let emu: Emulator;
let hang: http.Server;
const sockets: net.Socket[] = [];
let requests = 0;
beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'cust-job', subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  });
  hang = http.createServer(() => void (requests += 1)); // takes the request, never answers
  hang.on('connection', (socket) => sockets.push(socket));
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', () => resolve()));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => hang.close(resolve));
  await emu.stop();
});

test('Stigg hanging at exit: a job without close() ends within the hook’s 5 s (not the client’s 3 × 5 s), naming the 3 units', async () => {
  const { port } = hang.address() as net.AddressInfo;
  const code = `
import { Stigg, createEntitlements } from 'stigg-gate';
const client = Stigg.createClient();
const hanging = Stigg.createClient(undefined, { apiUrl: 'http://127.0.0.1:${port}/graphql' });
client.reportUsageBulk = (input, options) => hanging.reportUsageBulk(input, options);
const entitlements = createEntitlements({ client });
void (async () => {
  const lease = await entitlements.acquire({ customerId: 'cust-job', featureId: 'feature-02-campaigns', requestedUsage: 3 });
  lease.commit();
  console.log('work done');
})();
`;
  const script = await runScript(code, { STIGG_SERVER_API_KEY: emu.apiKey, STIGG_API_URL: emu.url });
  await script.line(/work done/);
  const workDone = Date.now();
  const exited = await script.exited;
  const lingered = Date.now() - workDone;
  expect(exited.code).toBe(0);
  expect(exited.stderr).toMatch(/1 usage report \(3 units\) not delivered to Stigg/);
  expect(requests).toBe(1); // the call was made, and not tried again after the deadline
  // The hook's 5 s plus a whole 5 s for a busy machine; before, the client's three attempts took 15 s.
  expect(lingered).toBeGreaterThanOrEqual(4_000);
  expect(lingered).toBeLessThan(10_000);
});
