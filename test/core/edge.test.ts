import { build } from 'esbuild';
import path from 'node:path';
import vm from 'node:vm';

/**
 * A Hono app on Cloudflare workerd loads the root entry's core: no node: module on the way, no
 * process, no setImmediate, timers that are plain numbers. Bundled as for a browser-like runtime
 * and run in a bare V8 context with only the web globals workerd has.
 */
test('the core bundles without node: modules and decides in a runtime without Node globals', async () => {
  const result = await build({
    entryPoints: [path.join(__dirname, '../../src/core/index.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'core',
    platform: 'browser',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.filter((input) => input.startsWith('node:') || /async_hooks|node:events|node:crypto/.test(input))).toEqual([]);
  const code = result.outputFiles[0]?.text ?? '';
  expect(code).not.toMatch(/require\(["']node:(crypto|events)["']\)/);

  let timerId = 0;
  const sandbox: Record<string, unknown> = {
    crypto: globalThis.crypto,
    console,
    Promise,
    setTimeout: () => ++timerId,
    clearTimeout: () => undefined,
    setInterval: () => ++timerId,
    clearInterval: () => undefined,
  };
  vm.createContext(sandbox);
  vm.runInContext(`${code}\nglobalThis.core = core;`, sandbox);
  const core = sandbox['core'] as typeof import('../../src/core');
  const entitlements = core.createEntitlements({
    client: {
      getEntitlement: async () => ({
        isGranted: true,
        hasUnlimitedUsage: false,
        usageLimit: 2,
        currentUsage: 0,
        feature: { refId: 'f', featureType: 'NUMBER', meterType: 'Incremental' },
      }),
      reportUsageBulk: async ({ usages }) =>
        usages.map((usage, index) => ({ id: String(index), ...usage, resourceId: usage.resourceId ?? null, currentUsage: usage.value })),
    },
    now: () => 1_000,
  });
  const lease = await entitlements.acquire({ customerId: 'c', featureId: 'f', requestedUsage: 2 });
  expect(lease.decision.granted).toBe(true);
  lease.commit();
  expect((await entitlements.acquire({ customerId: 'c', featureId: 'f', requestedUsage: 1 })).decision.granted).toBe(false);
  await entitlements.close();
});

test('the root entry (stigg-gate: core and client) bundles for a browser-like runtime without any node: module', async () => {
  const result = await build({
    entryPoints: [path.join(__dirname, '../../src/index.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    metafile: true,
    logLevel: 'silent',
  });
  expect(Object.keys(result.metafile.inputs).filter((input) => input.startsWith('node:'))).toEqual([]);
  // Code, not comments: graphql (the client's wire, through graphql-request) has a JSDoc example
  // reading `import assert from 'node:assert/strict'`.
  const code = (result.outputFiles[0]?.text ?? '').split('\n').filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line));
  expect(code.filter((line) => /from ["']node:|require\(["']node:|import\(["']node:/.test(line))).toEqual([]);
});
