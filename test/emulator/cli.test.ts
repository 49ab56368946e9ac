import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(__dirname, '..', '..');
let dir: string;

/** The CLI runs as a real child process: transpile src/ to plain CommonJS in a temp dir (the build's layout). */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stigg-emulator-cli-'));
  const transpile = (from: string, to: string): void => {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      if (entry.isDirectory()) transpile(join(from, entry.name), join(to, entry.name));
      else if (entry.name.endsWith('.ts')) {
        const { outputText } = ts.transpileModule(readFileSync(join(from, entry.name), 'utf8'), {
          compilerOptions: {
            module: ts.ModuleKind.CommonJS,
            target: ts.ScriptTarget.ES2022,
            esModuleInterop: true,
            experimentalDecorators: true,
          },
        });
        writeFileSync(join(to, entry.name.replace(/\.ts$/, '.js')), outputText);
      }
    }
  };
  transpile(join(root, 'src'), dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [join(dir, 'emulator', 'cli.js'), ...args], {
    env: { ...process.env, NODE_PATH: join(root, 'node_modules') },
  });
}

function collect(child: ChildProcessWithoutNullStreams): {
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
} {
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
    writeFileSync(
      catalogFile,
      JSON.stringify({
        products: [{ id: 'p' }],
        features: [{ id: 'f-seats', featureType: 'NUMBER', meterType: 'Fluctuating' }],
        plans: [
          {
            id: 'plan-free',
            productId: 'p',
            pricingType: 'FREE',
            entitlements: [{ featureId: 'f-seats', usageLimit: 2 }],
          },
        ],
        customers: [{ id: 'cust-1', subscriptions: [{ planId: 'plan-free' }], usage: [{ featureId: 'f-seats', value: 1 }] }],
      }),
    );
    const child = run(['--port', '0', '--host', '127.0.0.1', '--catalog', catalogFile, '--api-key', 'cli-key', '--seed', '7']);
    const output = collect(child);
    const url = await waitForUrl(child);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(url).not.toMatch(/:0\/graphql$/);

    const query = 'query($q: FetchEntitlementQuery!) { entitlement(query: $q) { isGranted usageLimit currentUsage } }';
    const body = JSON.stringify({
      query,
      variables: { q: { customerId: 'cust-1', featureId: 'f-seats', options: { requestedUsage: 1 } } },
    });
    const refused = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(refused.status).toBe(401);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'cli-key' },
      body,
    });
    expect(await res.json()).toEqual({ data: { entitlement: { isGranted: true, usageLimit: 2, currentUsage: 1 } } });

    const report = JSON.stringify({
      query: 'mutation($i: ReportUsageInput!) { reportUsage(input: $i) { currentUsage } }',
      variables: { i: { customerId: 'cust-1', featureId: 'f-seats', value: 1 } },
    });
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'cli-key' },
      body: report,
    });

    child.kill('SIGTERM');
    expect(await output.exit).toBe(0);
    expect(output.out()).toContain(`STIGG_API_URL=${url}\n  STIGG_SERVER_API_KEY=cli-key\n`);
    expect(output.out()).toContain(`Catalog: ${catalogFile} (1 plans, 1 features); customers: cust-1`);
    expect(output.out()).toContain('stopping (SIGTERM)\nUsage recorded:\n  cust-1 f-seats: 1\n');
    await expect(fetch(url, { method: 'POST', body })).rejects.toThrow();
  });

  it('exits 1 with the offending path when the catalog is invalid', async () => {
    const catalogFile = join(dir, 'bad.json');
    writeFileSync(
      catalogFile,
      JSON.stringify({
        products: [{ id: 'p' }],
        features: [{ id: 'f', featureType: 'NUMBER' }],
        plans: [{ id: 'plan', productId: 'p', pricingType: 'FREE', entitlements: [{ featureId: 'missing' }] }],
      }),
    );
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

  it('--demo provisions the demo customers, says so, and prints "Usage recorded: none" on SIGINT when nothing was reported', async () => {
    const child = run(['--demo', '--webhook-url', 'http://127.0.0.1:9/hooks', '--webhook-secret', 's3cret']);
    const output = collect(child);
    const url = await waitForUrl(child);
    expect(output.out()).toContain('customers: demo-basic, demo-essentials, demo-growth, demo-promoted');
    expect(output.out()).toContain('Webhooks: POST http://127.0.0.1:9/hooks (Stigg-Webhooks-Secret set)');
    const query = 'query($q: FetchEntitlementQuery!) { entitlement(query: $q) { isGranted usageLimit currentUsage } }';
    const body = JSON.stringify({
      query,
      variables: { q: { customerId: 'demo-essentials', featureId: 'feature-02-campaigns' } },
    });
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'emulator-server-key' },
      body,
    });
    expect(await res.json()).toEqual({ data: { entitlement: { isGranted: true, usageLimit: 20, currentUsage: 18 } } });

    // The banner names the plans with their limits, and its admin commands work as printed.
    expect(output.out()).toContain(
      '    plan-revvenu-basic "Basic" (FREE): feature-01-templates 3 templates, feature-02-campaigns 4 campaigns a month\n',
    );
    expect(output.out()).toContain('    feature-04-analytics "Analytics": BOOLEAN\n');
    expect(output.out()).toContain('    demo-growth: plan-revvenu-growth + 1 × addon-10-campaigns\n');
    const setPlan = /set a plan: +curl -s -H 'X-API-KEY: ([^']+)' -d '([^']+)' (\S+)\n/.exec(output.out());
    expect(setPlan).not.toBeNull();
    const [, key, data, target] = setPlan as unknown as [string, string, string, string];
    expect(target).toBe(url.replace(/\/graphql$/, '/admin/customers/demo-basic/plan'));
    const changed = await fetch(target, { method: 'POST', headers: { 'x-api-key': key }, body: data });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ customerId: 'demo-basic', planId: 'plan-revvenu-growth', status: 'SUCCESS' });
    child.kill('SIGINT');
    expect(await output.exit).toBe(0);
    expect(output.out()).toContain('stopping (SIGINT)\nUsage recorded: none\n');
  });

  it('without customers, the banner says how to get some', async () => {
    const child = run([]);
    const output = collect(child);
    await waitForUrl(child);
    child.kill('SIGTERM');
    await output.exit;
    expect(output.out()).toContain(
      'no customers yet: provision them (provisionCustomer, or the admin plan command below), or restart with --demo',
    );
  });

  it('exits 2 on --demo with --catalog and on --webhook-secret without --webhook-url', async () => {
    const both = collect(run(['--demo', '--catalog', 'x.json']));
    expect(await both.exit).toBe(2);
    expect(both.err()).toContain('declare "customers" in the file instead');
    const secret = collect(run(['--webhook-secret', 's']));
    expect(await secret.exit).toBe(2);
    expect(secret.err()).toContain('--webhook-secret needs --webhook-url');
  });
});
