import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(__dirname, '..', '..');
let dir: string;

/** The CLI runs as a real child process: transpile src/emulator to plain CommonJS in a temp dir (the build's layout). */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stigg-emulator-cli-'));
  mkdirSync(join(dir, 'emulator'));
  mkdirSync(join(dir, 'client'));
  for (const file of readdirSync(join(root, 'src', 'emulator'))) {
    if (!file.endsWith('.ts')) continue;
    const source = readFileSync(join(root, 'src', 'emulator', file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(dir, 'emulator', file.replace(/\.ts$/, '.js')), outputText);
  }
  copyFileSync(join(root, 'src', 'client', 'schema.graphql'), join(dir, 'client', 'schema.graphql'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [join(dir, 'emulator', 'cli.js'), ...args], {
    env: { ...process.env, NODE_PATH: join(root, 'node_modules') },
  });
}

function collect(child: ChildProcessWithoutNullStreams): { out: () => string; err: () => string; exit: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { out: () => out, err: () => err, exit };
}

function waitForUrl(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((done, fail) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on (http:\/\/\S+\/graphql)/.exec(text);
      if (match?.[1] !== undefined) done(match[1]);
    });
    child.on('exit', (code) => fail(new Error(`CLI exited with ${code} before printing its URL`)));
  });
}

describe('stigg-gate-emulator CLI', () => {
  it('starts on a free port, prints the URL, serves the catalog and API key it was given, stops on SIGTERM', async () => {
    const catalogFile = join(dir, 'catalog.json');
    writeFileSync(catalogFile, JSON.stringify({
      products: [{ id: 'p' }],
      features: [{ id: 'f-seats', featureType: 'NUMBER', meterType: 'Fluctuating' }],
      plans: [{ id: 'plan-free', productId: 'p', pricingType: 'FREE', entitlements: [{ featureId: 'f-seats', usageLimit: 2 }] }],
      customers: [{ id: 'cust-1', subscriptions: [{ planId: 'plan-free' }], usage: [{ featureId: 'f-seats', value: 1 }] }],
    }));
    const child = run(['--port', '0', '--host', '127.0.0.1', '--catalog', catalogFile, '--api-key', 'cli-key', '--seed', '7']);
    const output = collect(child);
    const url = await waitForUrl(child);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(url).not.toMatch(/:0\/graphql$/);

    const query = 'query($q: FetchEntitlementQuery!) { entitlement(query: $q) { isGranted usageLimit currentUsage } }';
    const body = JSON.stringify({ query, variables: { q: { customerId: 'cust-1', featureId: 'f-seats', options: { requestedUsage: 1 } } } });
    const refused = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(refused.status).toBe(401);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'cli-key' }, body });
    expect(await res.json()).toEqual({ data: { entitlement: { isGranted: true, usageLimit: 2, currentUsage: 1 } } });

    child.kill('SIGTERM');
    expect(await output.exit).toBe(0);
    expect(output.out()).toContain('stopping (SIGTERM)');
    await expect(fetch(url, { method: 'POST', body })).rejects.toThrow();
  });

  it('exits 1 with the offending path when the catalog is invalid', async () => {
    const catalogFile = join(dir, 'bad.json');
    writeFileSync(catalogFile, JSON.stringify({
      products: [{ id: 'p' }],
      features: [{ id: 'f', featureType: 'NUMBER' }],
      plans: [{ id: 'plan', productId: 'p', pricingType: 'FREE', entitlements: [{ featureId: 'missing' }] }],
    }));
    const output = collect(run(['--catalog', catalogFile]));
    expect(await output.exit).toBe(1);
    expect(output.err()).toContain('plans[0].entitlements[0].featureId');
    expect(output.err()).toContain('"missing"');
  });

  it('exits 2 with usage on a bad flag', async () => {
    const output = collect(run(['--failure-rate', 'lots']));
    expect(await output.exit).toBe(2);
    expect(output.err()).toContain('--failure-rate takes a number');
    expect(output.err()).toContain('Usage: stigg-gate-emulator');
  });
});
