/**
 * Builds and packs the package as `npm pack` ships it, installs the tarball into a throwaway CommonJS
 * project and an ESM project, and loads every entry point there with require() and import — plus a
 * type check of the same imports with node16 resolution. Offline: the tarball is extracted into
 * node_modules/stigg-gate and only its declared dependencies and peers are linked from this repo.
 *
 * The build runs in a staging copy (src, scripts, tsconfigs, package.json) so that it never deletes
 * the work tree's dist/ under another process; the tarball is the same.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '../..');
const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');

/** Entry point → exports it must have (a class or function every user of that entry point needs). */
const EXPECTED: Record<string, string[]> = {
  'stigg-gate': ['StiggClient', 'Stigg', 'StiggError', 'StiggGraphQLError', 'createEntitlements', 'MemoryStore', 'EntitlementDeniedError'],
  'stigg-gate/express': ['stigg', 'requireFeature', 'entitlementErrorHandler'],
  'stigg-gate/koa': ['stigg', 'requireFeature', 'entitlementErrorHandler'],
  'stigg-gate/fastify': ['stiggPlugin', 'requireFeature', 'entitlementErrorHandler'],
  'stigg-gate/hono': ['stigg', 'requireFeature', 'entitlementErrorHandler'],
  'stigg-gate/decorators': ['RequireFeature', 'ReportUsage'],
  'stigg-gate/emulator': ['startEmulator', 'defaultCatalog'],
  'stigg-gate/redis': ['RedisStore'],
};
const ENTRIES = Object.keys(EXPECTED);

let work: string;
let packed: { name: string; files: string[]; manifest: { dependencies?: object; peerDependencies?: object } };

const env = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

// Loads each entry point, then makes one real call with the packed client against the packed emulator:
// that proves the .graphql documents ship in dist/cjs and load relative to the compiled client.
const probe = (load: string) => `
const entries = ${JSON.stringify(ENTRIES)};
const out = { entries: {} };
for (const entry of entries) {
  try {
    const mod = ${load};
    out.entries[entry] = { keys: Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule').sort() };
  } catch (error) {
    out.entries[entry] = { error: String(error && error.stack || error) };
  }
}
try {
  const { Stigg } = ${load.replace('entry', "'stigg-gate'")};
  const { startEmulator } = ${load.replace('entry', "'stigg-gate/emulator'")};
  const emulator = await startEmulator({ port: 0 });
  try {
    const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
    out.call = await client.getEntitlement({ customerId: 'nobody', featureId: 'feature-04-analytics' });
  } finally {
    await emulator.stop();
  }
} catch (error) {
  out.call = { error: String(error && error.stack || error) };
}
`;

async function consumer(kind: 'cjs' | 'esm', tarball: string, name = `${kind}-consumer`): Promise<string> {
  const dir = path.join(work, name);
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', modules]);
  fs.renameSync(path.join(modules, 'package'), path.join(modules, 'stigg-gate'));
  const linked = { ...packed.manifest.dependencies, ...packed.manifest.peerDependencies };
  for (const name of Object.keys(linked)) {
    fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
    fs.symlinkSync(path.join(repo, 'node_modules', name), path.join(modules, name), 'dir');
  }
  const type = kind === 'esm' ? 'module' : 'commonjs';
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `${kind}-consumer`, private: true, type }));
  if (kind === 'cjs') {
    fs.writeFileSync(path.join(dir, 'probe.js'), `(async () => {${probe('require(entry)')}\nprocess.stdout.write(JSON.stringify(out));\n})();\n`);
  } else {
    fs.writeFileSync(
      path.join(dir, 'probe.js'),
      `import { createRequire } from 'node:module';\n${probe('(await import(entry))')}\n` +
        `out.sameModule = (await import('stigg-gate')).StiggClient === createRequire(import.meta.url)('stigg-gate').StiggClient;\n` +
        'process.stdout.write(JSON.stringify(out));\n',
    );
  }
  return dir;
}

/** One .cts (require) and one .mts (import) file naming every expected export, checked with node16 resolution. */
function writeTypeProbes(dir: string): void {
  const imports = ENTRIES.map((entry, i) => `import { ${EXPECTED[entry]?.map((name) => `${name} as e${i}_${name}`).join(', ')} } from '${entry}';`);
  const uses = ENTRIES.flatMap((entry, i) => EXPECTED[entry]?.map((name) => `e${i}_${name}`) ?? []);
  const source = `${imports.join('\n')}\nexport const all = [${uses.join(', ')}];\n`;
  fs.writeFileSync(path.join(dir, 'types.mts'), source);
  fs.writeFileSync(path.join(dir, 'types.cts'), source);
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ['types.mts', 'types.cts'],
    }),
  );
}

async function probeOutput(dir: string): Promise<any> {
  const { stdout } = await run(process.execPath, ['probe.js'], { cwd: dir, timeout: 20_000, env: { ...process.env, NODE_PATH: '' } });
  return JSON.parse(stdout);
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-pack-'));
  const staging = path.join(work, 'staging');
  fs.mkdirSync(staging);
  for (const file of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'LICENSE']) {
    if (fs.existsSync(path.join(repo, file))) fs.copyFileSync(path.join(repo, file), path.join(staging, file));
  }
  // Leave out compiled output that an in-place tsc run may have left beside the sources.
  const notCompiledOutput = (source: string) => !/\.js(\.map)?$/.test(source);
  fs.cpSync(path.join(repo, 'src'), path.join(staging, 'src'), { recursive: true, filter: notCompiledOutput });
  fs.cpSync(path.join(repo, 'scripts'), path.join(staging, 'scripts'), { recursive: true });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(staging, 'node_modules'), 'dir');

  await run(process.execPath, ['scripts/build.js'], { cwd: staging, env, timeout: 90_000 });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: staging, env, timeout: 30_000 });
  const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error('npm pack printed no result');
  packed = {
    name: info.filename,
    files: info.files.map((f) => f.path),
    manifest: JSON.parse(fs.readFileSync(path.join(staging, 'package.json'), 'utf8')),
  };
}, 120_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the compiled entry points, their types, the ESM wrappers and the GraphQL documents, and no sources', () => {
    expect(packed.files).toEqual(expect.arrayContaining(['package.json', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.mjs', 'dist/cjs/client/fragments.graphql', 'dist/cjs/client/operations/getEntitlement.graphql']));
    for (const conditions of Object.values((packed.manifest as { exports: Record<string, unknown> }).exports)) {
      const targets = typeof conditions === 'string' ? [conditions] : Object.values(conditions as Record<string, string>);
      for (const target of targets) expect(packed.files).toContain(target.replace(/^\.\//, ''));
    }
    expect(packed.files.filter((f) => f.endsWith('.graphql') && f.includes('/operations/'))).toHaveLength(21);
    expect(packed.files.filter((f) => /^(src|test)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });

  it.each(['cjs', 'esm'] as const)('loads every entry point from a %s project and makes a real call', async (kind) => {
    const dir = await consumer(kind, path.join(work, packed.name));
    const out = await probeOutput(dir);
    for (const entry of ENTRIES) {
      expect({ entry, ...out.entries[entry] }).toEqual({ entry, keys: expect.arrayContaining(EXPECTED[entry] ?? []) });
    }
    expect(out.call).toMatchObject({ isGranted: false, accessDeniedReason: 'CustomerNotFound' });
    if (kind === 'esm') expect(out.sameModule).toBe(true);
  }, 60_000);

  it('resolves the types of every entry point for require (.cts) and import (.mts)', async () => {
    const dir = await consumer('cjs', path.join(work, packed.name), 'types-consumer');
    writeTypeProbes(dir);
    await expect(run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 60_000 })).resolves.toBeDefined();
  }, 60_000);
});
