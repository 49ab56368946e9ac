import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { runScript } from './script';
import { forSuite } from '../support/suite';

// The README's first snippet, run as a server: on SIGTERM it stops accepting connections, lets the
// request in flight finish, delivers the usage and exits within close()'s timeoutMs (+ 1 s).

const CAMPAIGNS = 'feature-02-campaigns';
const TIMEOUT_MS = 10_000;

function readmeSnippet(): string {
  const text = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(text)?.[1];
  if (block === undefined || !block.includes("process.once('SIGTERM'")) throw new Error("README.md's first snippet has no SIGTERM recipe");
  return block;
}

const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'cust-readme', subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  }),
);

/** Resolves once nothing listens on `port` any more (the server stopped accepting connections). */
async function refused(port: number): Promise<void> {
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!accepted) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it("README's snippet: SIGTERM with a request in flight, which completes; every unit delivered; exit within timeoutMs + 1 s", async () => {
  // The test learns the port the snippet's server listens on (PORT=0: any free one).
  const code = `${readmeSnippet()}\nserver.once('listening', () => console.log('listening on ' + (server.address() as { port: number }).port));\n`;
  const script = await runScript(code, { STIGG_SERVER_API_KEY: emu.apiKey, STIGG_API_URL: emu.url, PORT: '0' });
  const port = Number(/listening on (\d+)/.exec(await script.line(/^listening on \d+$/))?.[1]);
  const url = `http://127.0.0.1:${port}`;

  const first = await fetch(`${url}/campaigns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-demo-customer': 'cust-readme' },
    body: JSON.stringify({ count: 2 }),
  });
  expect(first.status).toBe(201);

  // A request in flight at SIGTERM: its headers are in (100 Continue), its body not yet.
  const body = JSON.stringify({ count: 3 });
  const inFlight = http.request(`${url}/campaigns`, {
    method: 'POST',
    agent: false,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      expect: '100-continue',
      'x-demo-customer': 'cust-readme',
    },
  });
  const answered = new Promise<number>((resolve, reject) => {
    inFlight.once('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    inFlight.once('error', reject);
  });
  await new Promise<void>((resolve) => inFlight.once('continue', resolve));
  const signalled = Date.now();
  script.child.kill('SIGTERM');
  await refused(port);
  inFlight.end(body);
  expect(await answered).toBe(201);

  const exited = await Promise.race([script.exited, new Promise<'running'>((resolve) => setTimeout(resolve, 20_000, 'running'))]);
  if (exited === 'running') script.child.kill('SIGKILL');
  expect(exited).not.toBe('running');
  expect(Date.now() - signalled).toBeLessThan(TIMEOUT_MS + 1_000);
  expect(exited).toMatchObject({ code: 0, stderr: '' });
  expect(emu.stats().usage[`cust-readme||${CAMPAIGNS}`]).toBe(5);
});
