/**
 * Builds and packs the package as `npm pack` ships it, installs the tarball into a throwaway CommonJS
 * project and an ESM project, and loads every entry point of entries.json there with require() and
 * import — plus a type check of the same imports under node10, node16 (require and import) and bundler
 * resolution, arethetypeswrong and publint on the tarball, and what the tarball must (not) contain.
 * Offline: the tarball is extracted into node_modules/stigg-gate and only its declared dependencies
 * and peers are linked from this repo.
 *
 * The build runs in a staging copy (src, scripts, tsconfigs, package.json) so that it never deletes
 * the work tree's dist/ under another process; the tarball is the same.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { entries } from '../../scripts/entries';
import { bundleAndRun } from './esm-bundle';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '../..');
/** The TypeScript the repository builds with, and the registry's current major (the typescript7 alias). */
const COMPILERS = {
  '5.9': path.join(repo, 'node_modules/typescript/bin/tsc'),
  '7': path.join(repo, 'node_modules/typescript7/bin/tsc'),
} as const;

/** Entry point → exports it must have (a class or function every user of that entry point needs). */
const EXPECTED_NAMES: Record<string, string[]> = {
  'stigg-gate': ['StiggClient', 'Stigg', 'StiggError', 'StiggGraphQLError', 'createEntitlements', 'MemoryStore', 'EntitlementDeniedError'],
  'stigg-gate/express': ['stigg', 'requireFeature', 'entitlementErrorHandler', 'stiggWebhook'],
  'stigg-gate/koa': ['stigg', 'requireFeature', 'entitlementErrorHandler', 'stiggWebhook'],
  'stigg-gate/fastify': ['stiggPlugin', 'requireFeature', 'entitlementErrorHandler', 'stiggWebhook'],
  'stigg-gate/hono': ['stigg', 'requireFeature', 'entitlementErrorHandler', 'stiggWebhook'],
  'stigg-gate/decorators': ['RequireFeature', 'ReportUsage'],
  'stigg-gate/emulator': ['startEmulator', 'defaultCatalog'],
  'stigg-gate/redis': ['RedisStore'],
  'stigg-gate/nest': ['StiggModule'],
  'stigg-gate/testing': ['createTestEntitlements', 'inject', 'UsageAssertionError'],
};
const ENTRIES = entries.map((entry) => entry.specifier);
const EXPECTED: Record<string, string[]> = Object.fromEntries(ENTRIES.map((entry) => [entry, EXPECTED_NAMES[entry] ?? []]));

let work: string;
let packed: { name: string; files: string[]; manifest: { dependencies?: object; peerDependencies?: object } };

const env = {
  ...process.env,
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

// Loads each entry point, then makes one real call with the packed client against the packed emulator:
// that proves the GraphQL documents are in the compiled client.
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
  // What a TypeScript user of the peers installs beside them (and @types/node).
  const typed = Object.keys(linked).map((name) => `@types/${name.replace(/^@(.+)\//, '$1__')}`);
  for (const name of [
    ...Object.keys(linked),
    '@types/node',
    ...typed.filter((name) => fs.existsSync(path.join(repo, 'node_modules', name))),
  ]) {
    fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
    fs.symlinkSync(path.join(repo, 'node_modules', name), path.join(modules, name), 'dir');
  }
  const type = kind === 'esm' ? 'module' : 'commonjs';
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `${kind}-consumer`, private: true, type }));
  if (kind === 'cjs') {
    fs.writeFileSync(
      path.join(dir, 'probe.js'),
      `(async () => {${probe('require(entry)')}\nprocess.stdout.write(JSON.stringify(out));\n})();\n`,
    );
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

/** How TypeScript users resolve the package, and the files each one type-checks. */
const RESOLUTIONS = {
  // NestJS <= 10's default tsconfig: no "exports", subpaths through typesVersions.
  node10: { options: { module: 'commonjs', moduleResolution: 'node10' }, files: ['probe.ts'] },
  node16: { options: { module: 'node16', moduleResolution: 'node16' }, files: ['probe.cts', 'probe.mts'] },
  // Nest apps on NestJS 12 (ES modules only): typed require(esm) from CommonJS.
  node20: { options: { module: 'node20', moduleResolution: 'node16' }, files: ['probe.cts', 'probe.mts'] },
  bundler: { options: { module: 'esnext', moduleResolution: 'bundler' }, files: ['probe.ts'] },
} as const;

/** Which compiler checks which resolution: TypeScript 7 removed node10 (and is fast enough to add node20). */
const TYPE_CHECKS: Array<[keyof typeof COMPILERS, keyof typeof RESOLUTIONS]> = [
  ['5.9', 'node10'],
  ['5.9', 'node16'],
  ['5.9', 'bundler'],
  ['7', 'node16'],
  ['7', 'node20'],
  ['7', 'bundler'],
];

/** Files naming every expected export of every entry point (and the whole namespace), checked under one resolution. */
function writeTypeProbe(dir: string, resolution: keyof typeof RESOLUTIONS): string {
  const probeDir = path.join(dir, 'types');
  fs.mkdirSync(probeDir);
  const imports = ENTRIES.flatMap((entry, i) => [
    `import * as all${i} from '${entry}';`,
    `import { ${(EXPECTED[entry] ?? []).map((name) => `${name} as e${i}_${name}`).join(', ')} } from '${entry}';`,
  ]);
  const uses = ENTRIES.flatMap((entry, i) => [`all${i}`, ...(EXPECTED[entry] ?? []).map((name) => `e${i}_${name}`)]);
  const source = `${imports.join('\n')}\nexport const all = [${uses.join(', ')}];\n`;
  const { options, files } = RESOLUTIONS[resolution];
  for (const file of files) fs.writeFileSync(path.join(probeDir, file), source);
  fs.writeFileSync(
    path.join(probeDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        ...options,
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        esModuleInterop: true,
        types: ['node'],
      },
      files,
    }),
  );
  return probeDir;
}

/** Every file an "exports" value points at, through nested conditions. */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

async function probeOutput(dir: string): Promise<any> {
  const { stdout } = await run(process.execPath, ['probe.js'], { cwd: dir, timeout: 20_000, env: { ...process.env, NODE_PATH: '' } });
  return JSON.parse(stdout);
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-pack-'));
  const staging = path.join(work, 'staging');
  fs.mkdirSync(staging);
  for (const file of [
    'package.json',
    'README.md',
    'tsconfig.json',
    'tsconfig.build.json',
    'entries.json',
    'LICENSE',
    'CHANGELOG.md',
    'CONTRIBUTING.md',
    'ARCHITECTURE.md',
  ]) {
    if (fs.existsSync(path.join(repo, file))) fs.copyFileSync(path.join(repo, file), path.join(staging, file));
  }
  // The manual and the example catalog ship (package.json "files"); the whole folders are copied so
  // that a file the list leaves out is left out by npm pack, as it would be in the repository.
  fs.cpSync(path.join(repo, 'docs'), path.join(staging, 'docs'), { recursive: true });
  fs.cpSync(path.join(repo, 'examples'), path.join(staging, 'examples'), {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist)$/.test(source),
  });
  // Leave out compiled output that an in-place tsc run may have left beside the sources.
  const notCompiledOutput = (source: string) => !/\.js(\.map)?$/.test(source);
  fs.cpSync(path.join(repo, 'src'), path.join(staging, 'src'), { recursive: true, filter: notCompiledOutput });
  fs.cpSync(path.join(repo, 'scripts'), path.join(staging, 'scripts'), { recursive: true });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(staging, 'node_modules'), 'dir');

  await run(process.execPath, ['scripts/build.js'], { cwd: staging, env, timeout: 150_000 });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: staging,
    env,
    timeout: 30_000,
  });
  const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error('npm pack printed no result');
  packed = {
    name: info.filename,
    files: info.files.map((f) => f.path),
    manifest: JSON.parse(fs.readFileSync(path.join(staging, 'package.json'), 'utf8')),
  };
}, 200_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the compiled entry points, their types and the ESM wrappers; no sources and no .graphql files (the documents are compiled in)', () => {
    expect(packed.files).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/cjs/index.js',
        'dist/cjs/index.d.ts',
        'dist/esm/index.mjs',
        'dist/esm/index.d.mts',
        'dist/module/index.mjs',
      ]),
    );
    for (const target of exportTargets((packed.manifest as { exports: unknown }).exports)) {
      expect(packed.files).toContain(target.replace(/^\.\//, ''));
    }
    expect(packed.files.filter((f) => f.endsWith('.graphql'))).toEqual([]);
    expect(packed.files.filter((f) => /^(src|test)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });

  it.each(['cjs', 'esm'] as const)(
    'loads every entry point from a %s project and makes a real call',
    async (kind) => {
      const dir = await consumer(kind, path.join(work, packed.name));
      const out = await probeOutput(dir);
      for (const entry of ENTRIES) {
        expect({ entry, ...out.entries[entry] }).toEqual({ entry, keys: expect.arrayContaining(EXPECTED[entry] ?? []) });
        expect({ entry, exports: out.entries[entry].keys.length > 0 }).toEqual({ entry, exports: true });
      }
      expect(out.call).toMatchObject({ isGranted: false, accessDeniedReason: 'CustomerNotFound' });
      if (kind === 'esm') expect(out.sameModule).toBe(true);
    },
    60_000,
  );

  it('bundles every entry point as an ES module with esbuild (the "module" build, dependencies inside, peers external) and runs it', async () => {
    const dir = await consumer('esm', path.join(work, packed.name), 'esm-bundle-consumer');
    const peers = Object.keys(packed.manifest.peerDependencies ?? {});
    for (const entry of ENTRIES) {
      const bundled = await bundleAndRun(dir, entry, peers);
      expect({ entry, keys: bundled.keys }).toEqual({ entry, keys: expect.arrayContaining(EXPECTED[entry] ?? []) });
      expect({ entry, module: bundled.packageInputs.every((input) => input.startsWith('dist/module/')) }).toEqual({ entry, module: true });
      if (entry === 'stigg-gate') expect(bundled.call).toMatchObject({ isGranted: false, accessDeniedReason: 'CustomerNotFound' });
      if (entry === 'stigg-gate/redis')
        expect(bundled.redisUrl).toMatch(/in an ES module bundle a redis URL cannot load ioredis: pass a client/);
    }
  }, 90_000);

  it.each(TYPE_CHECKS)(
    'resolves the types of every entry point under TypeScript %s, %s resolution',
    async (compiler, resolution) => {
      const dir = await consumer('cjs', path.join(work, packed.name), `types-${compiler}-${resolution}-consumer`);
      const probeDir = writeTypeProbe(dir, resolution);
      const { stdout } = await run(process.execPath, [COMPILERS[compiler], '-p', probeDir, '--pretty', 'false', '--listFiles'], {
        cwd: probeDir,
        timeout: 60_000,
      }).catch((error: { stdout: string }) => error);
      // Errors inside other packages' declarations (as skipLibCheck would hide) are not ours to fix;
      // every other error is (the probe's, stigg-gate's declarations', the configuration's).
      const errors = stdout.split('\n').filter((line) => /error TS\d+:/.test(line));
      const ours = errors.filter((line) => !/^\S*node_modules\/(?!stigg-gate\/)/.test(line));
      // NestJS 12 ships ES modules only: under module node16 no CommonJS file may import it (TS1479,
      // TS1541), an app's own imports of @nestjs/* included, so Nest apps use module node20/nodenext
      // (typed require(esm)) or node10. That is the peer's constraint, not a flaw of stigg-gate/nest.
      const nestEsmOnly = /dist\/cjs\/nest\/\S+\.d\.ts\(\d+,\d+\): error TS(1479|1541):/;
      expect(ours.filter((line) => !(resolution === 'node16' && nestEsmOnly.test(line)))).toEqual([]);
      // The compiler ran and read the package's declarations (--listFiles).
      expect(stdout).toMatch(/node_modules\/stigg-gate\/dist\/(cjs|esm)\/index\.d\.m?ts$/m);
    },
    60_000,
  );

  it('passes arethetypeswrong (node10, node16 from CJS and ESM, bundler) and publint', async () => {
    const tarball = path.join(work, packed.name);
    const attw = path.join(repo, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    const types = await run(process.execPath, [attw, tarball, '--format', 'json', '--no-definitely-typed'], { env, timeout: 60_000 }).catch(
      (error: { stdout: string }) => error,
    );
    const { analysis } = JSON.parse(types.stdout) as {
      analysis: { problems?: Array<{ kind: string; entrypoint?: string; resolutionKind?: string }> };
    };
    expect((analysis.problems ?? []).map((p) => `${p.kind} ${p.entrypoint ?? ''} ${p.resolutionKind ?? ''}`.trim())).toEqual([]);

    const publint = path.join(repo, 'node_modules/publint/src/cli.js');
    const lint = await run(process.execPath, [publint, 'run', tarball, '--strict'], { env, timeout: 60_000 }).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(`${lint.stdout}${lint.stderr}`).not.toMatch(/Errors:|Warnings:|Suggestions:/);
    expect(lint.stdout).toMatch(/All good!/);
  }, 90_000);

  it('ships LICENSE (MIT, as package.json says), its metadata, and no source maps or build state', async () => {
    const dir = path.join(work, 'unpacked');
    fs.mkdirSync(dir);
    await run('tar', ['-xzf', path.join(work, packed.name), '-C', dir]);
    const pkgDir = path.join(dir, 'package');
    const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    expect(manifest.license).toBe('MIT');
    expect(fs.readFileSync(path.join(pkgDir, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) /);
    expect(manifest.keywords).toEqual(expect.arrayContaining(['stigg', 'entitlements']));
    expect(packed.files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'CHANGELOG.md',
        'CONTRIBUTING.md',
        'ARCHITECTURE.md',
        'docs/emulator.md',
        'examples/emulator-catalog.json',
      ]),
    );
    expect(
      packed.files.filter(
        (f) =>
          !/^dist\/(cjs|esm|module)\/|^docs\/[\w-]+\.md$|^(package\.json|README\.md|LICENSE|CHANGELOG\.md|CONTRIBUTING\.md|ARCHITECTURE\.md|examples\/emulator-catalog\.json)$/.test(
            f,
          ),
      ),
    ).toEqual([]);

    // No source maps: a map pointing at sources the tarball lacks is dangling, and tsc's ES2022 output is
    // close enough to the sources to debug without one (maps with inlined sources doubled the tarball).
    expect(packed.files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const mapped = packed.files.filter(
      (f) => /\.m?js$/.test(f) && fs.readFileSync(path.join(pkgDir, f), 'utf8').includes('sourceMappingURL'),
    );
    expect(mapped).toEqual([]);
  });

  it('runs no script of ours when installed: no install-time lifecycle script, no binding.gyp (npm would run node-gyp)', () => {
    const scripts = (packed.manifest as { scripts?: Record<string, string> }).scripts ?? {};
    expect(Object.keys(scripts).filter((name) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(name))).toEqual([]);
    expect(packed.files.filter((f) => f.endsWith('binding.gyp'))).toEqual([]);
    // The build still runs for whoever packs (npm pack and npm publish run prepack).
    expect(scripts.prepack).toBe('node scripts/build.js');
  });

  it('resolves every relative link of the README and the docs to a file inside the tarball', async () => {
    const dir = path.join(work, 'links');
    fs.mkdirSync(dir);
    await run('tar', ['-xzf', path.join(work, packed.name), '-C', dir]);
    const pkgDir = path.join(dir, 'package');
    const manuals = packed.files.filter((f) => f === 'README.md' || /^docs\/.+\.md$/.test(f));
    const checked: string[] = [];
    const dead: string[] = [];
    for (const manual of manuals) {
      const text = fs.readFileSync(path.join(pkgDir, manual), 'utf8').replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
      // Inline links and images [text](target "title"), and reference definitions [label]: target.
      const targets = [
        ...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
        ...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm),
      ].map((match) => match[1] ?? '');
      for (const target of targets) {
        if (/^([a-z][a-z0-9+.-]*:|#|\/\/)/i.test(target)) continue; // absolute URLs, mailto:, in-page anchors
        const file = decodeURIComponent(target.replace(/[#?].*$/, ''));
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(manual), file));
        checked.push(`${manual} -> ${target}`);
        if (resolved.startsWith('..') || !packed.files.includes(resolved)) dead.push(`${manual} -> ${target}`);
      }
    }
    expect(dead).toEqual([]);
    // The walk saw the manual: the README and every docs page, and their links.
    expect(manuals.length).toBeGreaterThan(10);
    expect(checked.length).toBeGreaterThan(20);
  });
});
