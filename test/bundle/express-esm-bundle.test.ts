/**
 * An Express app using stigg-gate as a user installs it (the package's own exports map, the built
 * dist/), bundled by esbuild as an ES module for Node (`--bundle --format=esm --platform=node`, Express
 * left external as apps leave their framework), run as a child process against the emulator of this
 * test process. Through the CommonJS-wrapping ESM entry such a bundle died at load: lru-cache's CommonJS
 * build, reached through ours, made a `require("node:diagnostics_channel")` an ES module cannot make.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { Stigg } from '../../src/client';
import { startEmulator, type Emulator } from '../../src/emulator';

const root = path.resolve(__dirname, '../..');
const customerId = 'customer-esm-bundle-01';

const APP = `
import express from 'express';
import { Stigg, createEntitlements } from 'stigg-gate';
import { stigg, requireFeature, entitlementErrorHandler } from 'stigg-gate/express';

const entitlements = createEntitlements({ client: Stigg.createClient() }); // STIGG_SERVER_API_KEY and STIGG_API_URL
const app = express();
app.use(stigg({ entitlements, customer: (req) => req.get('x-customer') }));
app.post('/campaigns/:count', requireFeature('feature-02-campaigns', (req) => Number(req.params.count)), (req, res) => {
  res.status(201).json({ created: Number(req.params.count) });
});
app.use(entitlementErrorHandler());
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n');
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
  if (!fs.existsSync(path.join(root, 'dist', 'module', 'express.mjs')))
    throw new Error('dist/ is not built: run npm run build (npm test builds first)');
  emulator = await startEmulator({ port: 0 });
  await Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url }).provisionCustomer({
    customerId,
    subscriptionParams: { planId: 'plan-revvenu-basic' },
  });
  // The app's own folder: the package and Express installed (linked) beside it, nothing else.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-esm-bundle-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'stigg-gate'), 'dir');
  fs.symlinkSync(fs.realpathSync(path.join(root, 'node_modules', 'express')), path.join(dir, 'node_modules', 'express'), 'dir');
  fs.writeFileSync(path.join(dir, 'app.mjs'), APP);
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await emulator?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
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

describe('an Express app bundled as an ES module by esbuild', () => {
  it('loads, grants, denies with a 402 and reports its usage', async () => {
    const outfile = path.join(dir, 'bundle.mjs');
    const result = await build({
      entryPoints: [path.join(dir, 'app.mjs')],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: ['express'],
      absWorkingDir: dir,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    // The package's ES module build and lru-cache's, nothing of either's CommonJS build.
    expect(inputs.some((input) => input.includes('dist/module/express.mjs'))).toBe(true);
    expect(inputs.filter((input) => input.includes('dist/cjs/') || input.includes('lru-cache/dist/commonjs'))).toEqual([]);
    expect(fs.readFileSync(outfile, 'utf8')).not.toMatch(/__require\("node:/);

    child = spawn(process.execPath, [outfile], {
      cwd: dir,
      env: { PATH: process.env.PATH, STIGG_SERVER_API_KEY: emulator.apiKey, STIGG_API_URL: emulator.url },
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
    expect(await denied.json()).toMatchObject({ accessDeniedReason: 'RequestedUsageExceedingLimit', featureId: 'feature-02-campaigns' });

    const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(emulator.stats().usage[`${customerId}||feature-02-campaigns`]).toBe(3);
  });
});
