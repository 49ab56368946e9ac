#!/usr/bin/env node
// Builds the package, saying what it does in one line per step, and redoing only what changed:
//   1. TypeScript to CommonJS in dist/cjs (tsc --incremental; skipped when no input is newer than the
//      last build), and nothing else there: outputs of deleted sources and of switched-off options
//      (source maps) removed. The GraphQL documents are compiled in (src/client/generated, made by
//      scripts/gen-client.js), so no .graphql file ships;
//   2. one thin ESM wrapper per entry point of entries.json in dist/esm, with its own .d.mts types.
//      The wrappers re-export the CommonJS build, so `import` and `require` consumers share one module
//      instance (one cache, one usage buffer);
//   3. the real ES module build for bundlers in dist/module (exports' "module" condition): esbuild
//      bundles src/ per entry point, code shared between entry points split into chunks (one instance),
//      dependencies and peers left as imports. A bundler that took the wrappers would turn the CommonJS
//      build's require('node:…') into a require an ES module bundle cannot make;
//   4. the example app (examples/express-app), when present.
// `--clean` deletes dist/ first.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { entries } = require('./entries');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const cjsDir = path.join(dist, 'cjs');
const esmDir = path.join(dist, 'esm');
const moduleDir = path.join(dist, 'module');
const tsc = require.resolve('typescript/bin/tsc');

function log(message) {
  process.stdout.write(`build: ${message}\n`);
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function walk(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file, out);
    else out.push(file);
  }
  return out;
}

/**
 * Whether the outputs recorded in `stampFile` were built from exactly these inputs, none changed since:
 * the stamp lists the input files (a renamed or deleted file changes the list without touching an mtime).
 */
function upToDate(stampFile, inputs, outputs) {
  if (!fs.existsSync(stampFile) || !outputs.every((file) => fs.existsSync(file))) return false;
  const stamp = JSON.parse(fs.readFileSync(stampFile, 'utf8'));
  const built = fs.statSync(stampFile).mtimeMs;
  const names = inputs.map((file) => path.relative(root, file)).sort();
  return JSON.stringify(stamp.inputs) === JSON.stringify(names) && inputs.every((file) => fs.statSync(file).mtimeMs <= built);
}

/** Dated when the build started, so that a source saved during the build counts as changed next time. */
function writeStamp(stampFile, inputs, startedMs) {
  fs.mkdirSync(path.dirname(stampFile), { recursive: true });
  const names = inputs.map((file) => path.relative(root, file)).sort();
  fs.writeFileSync(stampFile, `${JSON.stringify({ inputs: names }, null, 2)}\n`);
  fs.utimesSync(stampFile, new Date(startedMs), new Date(startedMs));
}

if (process.argv.includes('--clean')) {
  fs.rmSync(dist, { recursive: true, force: true });
  log('removed dist/ (--clean)');
}

// 1. TypeScript.
const sources = walk(path.join(root, 'src')).filter((file) => !/\.(js|js\.map)$/.test(file));
const libraryInputs = [
  ...sources,
  ...['tsconfig.json', 'tsconfig.build.json', 'entries.json', 'scripts/build.js', 'scripts/entries.js'].map((f) => path.join(root, f)),
].filter((file) => fs.existsSync(file));
const present = entries.filter((entry) => fs.existsSync(path.join(root, entry.source)));
for (const entry of entries) {
  if (!present.includes(entry) && !entry.pending)
    throw new Error(`entries.json lists ${entry.subpath}, but ${entry.source} does not exist`);
}
const libraryStamp = path.join(dist, '.build-stamp.json');
const libraryOutputs = present.flatMap((entry) =>
  [entry.cjs, entry.esm, entry.esmTypes, entry.module].map((file) => path.join(root, file)),
);
const libraryFresh = upToDate(libraryStamp, libraryInputs, libraryOutputs);
if (libraryFresh) {
  log(`dist/cjs is up to date (${sources.length} files in src/ unchanged since the last build)`);
} else {
  const started = Date.now();
  execFileSync(
    process.execPath,
    [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--incremental', '--tsBuildInfoFile', path.join(dist, '.tsbuildinfo')],
    { stdio: 'inherit' },
  );
  log(`tsc src/ → dist/cjs (incremental, ${sources.filter((f) => f.endsWith('.ts')).length} sources): ${seconds(started)}`);

  // An incremental build leaves behind the outputs of deleted or renamed sources and of options turned
  // off since (source maps); the tarball must ship only what this build emits.
  const buildOptions = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')).compilerOptions ?? {};
  const emitted = buildOptions.sourceMap ? /(\.d\.ts|\.js\.map|\.js)$/ : /(\.d\.ts|\.js)$/;
  const stale = walk(cjsDir).filter((file) => {
    const relative = path.relative(cjsDir, file);
    return !emitted.test(relative) || !fs.existsSync(path.join(root, 'src', relative.replace(emitted, '.ts')));
  });
  for (const file of stale) fs.rmSync(file);
  if (stale.length) log(`removed ${stale.length} files from dist/cjs that this build does not emit`);

  const cli = path.join(cjsDir, 'emulator', 'cli.js');
  if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);

  // 2. ESM wrappers, each with the types of what it re-exports.
  fs.mkdirSync(esmDir, { recursive: true });
  const wrappers = new Set(present.flatMap((entry) => [entry.esm, entry.esmTypes].map((file) => path.join(root, file))));
  for (const file of walk(esmDir)) if (!wrappers.has(file)) fs.rmSync(file);
  for (const entry of present) {
    const cjsPath = path.join(root, entry.cjs);
    const names = Object.keys(require(cjsPath)).filter((n) => n !== 'default' && n !== '__esModule');
    const target = path.posix.relative('dist/esm', entry.cjs.slice(2));
    const wrapper = [
      `import mod from '${target}';`,
      ...(names.length ? [`export const { ${names.join(', ')} } = mod;`] : []),
      'export default mod;',
      '',
    ];
    fs.writeFileSync(path.join(root, entry.esm), wrapper.join('\n'));
    const types = [`import * as mod from '${target}';`, `export * from '${target}';`, 'export default mod;', ''];
    fs.writeFileSync(path.join(root, entry.esmTypes), types.join('\n'));
  }
  const missing = entries.filter((entry) => !present.includes(entry));
  log(
    `wrote ${present.length} ESM wrappers with .d.mts types to dist/esm` +
      (missing.length ? ` (skipped ${missing.map((e) => `${e.subpath}: ${e.source} is not in this tree yet`).join('; ')})` : ''),
  );

  // 3. The ES module build for bundlers.
  const moduleStarted = Date.now();
  fs.rmSync(moduleDir, { recursive: true, force: true });
  const result = require('esbuild').buildSync({
    entryPoints: Object.fromEntries(present.map((entry) => [entry.name, path.join(root, entry.source)])),
    outdir: moduleDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    tsconfig: path.join(root, 'tsconfig.build.json'),
    logLevel: 'warning',
    metafile: true,
  });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  log(
    `esbuild src/ → dist/module (ES modules for bundlers, ${Object.keys(result.metafile.outputs).length} files, ${Math.round(bytes / 1024)} KiB): ${seconds(moduleStarted)}`,
  );
  writeStamp(libraryStamp, libraryInputs, started);
}

// 4. The example apps, compiled against dist/ as a user's app is: examples/express-app, or the ones
//    named with --example NAME (scripts/start.js passes the one it starts).
const examples = process.argv.flatMap((arg, i) => (arg === '--example' && process.argv[i + 1] ? [process.argv[i + 1]] : []));
for (const name of examples.length ? examples : ['express-app']) {
  const exampleDir = path.join(root, 'examples', name);
  const exampleConfig = path.join(exampleDir, 'tsconfig.json');
  if (!fs.existsSync(exampleConfig)) {
    if (examples.length) throw new Error(`no example ${name}: ${path.relative(root, exampleConfig)} does not exist`);
    continue;
  }
  const where = `examples/${name}/dist`;
  const exampleInputs = [...walk(path.join(exampleDir, 'src')), exampleConfig, path.join(root, 'tsconfig.json'), libraryStamp];
  const exampleStamp = path.join(exampleDir, 'dist', '.build-stamp.json');
  const outputs = walk(path.join(exampleDir, 'dist')).filter((file) => file.endsWith('.js'));
  if (outputs.length && upToDate(exampleStamp, exampleInputs, outputs)) {
    log(`${where} is up to date`);
  } else {
    const started = Date.now();
    execFileSync(process.execPath, [tsc, '-p', exampleConfig], { stdio: 'inherit' });
    writeStamp(exampleStamp, exampleInputs, started);
    log(`tsc examples/${name}/src → ${where}: ${seconds(started)}`);
  }
}
