/**
 * A small Express app using stigg-gate, bundled with esbuild into a temp dir (nothing of the package
 * beside it: no .graphql file to read) and run as a child process against the emulator of this test
 * process. Before the documents were compiled in, every request of such a bundle answered 503 (ENOENT).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { Stigg } from '../../src/client';
import { startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator';

const root = path.resolve(__dirname, '../..');
const customerId = 'customer-bundle-01';

const APP = `
import express from 'express';
import { Stigg, createEntitlements } from 'stigg-gate';
import { stigg, requireFeature, entitlementErrorHandler } from 'stigg-gate/express';

const client = Stigg.createClient(); // STIGG_SERVER_API_KEY and STIGG_API_URL
const entitlements = createEntitlements({ client });
const app = express();
app.use(stigg({ entitlements, customer: (req) => req.get('x-customer') }));
app.post('/campaigns/:count', requireFeature('feature-02-campaigns', (req) => Number(req.params.count)), (req, res) => {
  res.status(201).json({ created: Number(req.params.count) });
});
app.use(entitlementErrorHandler());
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }) + '\\n');
});
process.on('SIGTERM', () => {
  server.close();
  entitlements.close().then(() => process.exit(0), (error) => { console.error(error); process.exit(1); });
});
`;

let emulator: Emulator;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  await Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url }).provisionCustomer({
    customerId,
    subscriptionParams: { planId: 'plan-revvenu-basic' },
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-bundle-'));
  fs.writeFileSync(path.join(dir, 'app.ts'), APP);
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await emulator.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function waitForPort(proc: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    proc.once('exit', (code) => reject(new Error(`the bundle exited (${code}) before listening: ${err}`)));
  });
}

describe('stigg-gate bundled with esbuild', () => {
  it('grants, denies with a 402 and reports usage from the bundle', async () => {
    const result = await build({
      entryPoints: [path.join(dir, 'app.ts')],
      outfile: path.join(dir, 'bundle.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['express'],
      alias: {
        'stigg-gate': path.join(root, 'src/index.ts'),
        'stigg-gate/express': path.join(root, 'src/middleware/express/index.ts'),
      },
      tsconfig: path.join(root, 'tsconfig.json'),
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.metafile.inputs).some((input) => input.includes('src/client/generated/documents.ts'))).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['app.ts', 'bundle.js']);

    child = spawn(process.execPath, [path.join(dir, 'bundle.js')], {
      cwd: dir,
      env: {
        ...process.env,
        STIGG_SERVER_API_KEY: emulator.apiKey,
        STIGG_API_URL: emulator.url,
        NODE_PATH: path.join(root, 'node_modules'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const port = await waitForPort(child);
    const post = (count: number): Promise<Response> =>
      fetch(`http://127.0.0.1:${port}/campaigns/${count}`, { method: 'POST', headers: { 'x-customer': customerId } });

    const granted = await post(3);
    expect(granted.status).toBe(201);
    expect(await granted.json()).toEqual({ created: 3 });

    const denied = await post(2);
    expect(denied.status).toBe(402);
    expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await denied.json()).toMatchObject({
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      featureId: 'feature-02-campaigns',
    });

    const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(emulator.stats().usage[`${customerId}||feature-02-campaigns`]).toBe(3);
  });
});
