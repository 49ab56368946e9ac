// Everything the package says about its entry points, derived from the one list in entries.json.
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const PACKAGE = 'stigg-gate';

/** @param {{ subpath: string, source: string, pending?: boolean }} raw */
function describe(raw) {
  if (!/^src\/.+\.ts$/.test(raw.source)) throw new Error(`entries.json: ${raw.subpath} has source ${raw.source}, expected src/….ts`);
  if (raw.subpath !== '.' && !/^\.\/[a-z][a-z0-9-]*$/.test(raw.subpath)) throw new Error(`entries.json: bad subpath ${raw.subpath}`);
  const module = raw.source.slice('src/'.length, -'.ts'.length);
  const name = raw.subpath === '.' ? 'index' : raw.subpath.slice(2);
  return {
    subpath: raw.subpath,
    /** 'index' for the root, else the subpath without './': the ESM wrapper's file name and the typesVersions key. */
    name,
    specifier: raw.subpath === '.' ? PACKAGE : `${PACKAGE}/${name}`,
    source: raw.source,
    pending: raw.pending === true,
    cjs: `./dist/cjs/${module}.js`,
    cjsTypes: `./dist/cjs/${module}.d.ts`,
    esm: `./dist/esm/${name}.mjs`,
    esmTypes: `./dist/esm/${name}.d.mts`,
    /** The real ES module build for bundlers (the "module" condition): static imports only. */
    module: `./dist/module/${name}.mjs`,
  };
}

const entries = require(path.join(root, 'entries.json')).entries.map(describe);

function exportsMap() {
  const map = {};
  for (const entry of entries) {
    // "module" (bundlers only: esbuild, webpack, Rollup, Vite) first: a bundle's import and require both
    // take the real ES module build, one copy, with static imports of node: built-ins. Node ignores it
    // and takes the wrapper over CommonJS (one instance for import and require).
    map[entry.subpath] = {
      module: entry.module,
      import: { types: entry.esmTypes, default: entry.esm },
      require: { types: entry.cjsTypes, default: entry.cjs },
    };
  }
  map['./package.json'] = './package.json';
  return map;
}

/** What resolvers that ignore "exports" (TypeScript's node10, NestJS <= 10's default) read for subpaths. */
function typesVersions() {
  const map = {};
  for (const entry of entries) if (entry.subpath !== '.') map[entry.name] = [entry.cjsTypes];
  return { '*': map };
}

/** The package.json fields derived from the list, in the order they appear there. */
function packageFields() {
  const rootEntry = entries.find((entry) => entry.subpath === '.');
  if (!rootEntry) throw new Error('entries.json lists no "." entry');
  return { main: rootEntry.cjs, types: rootEntry.cjsTypes, typesVersions: typesVersions(), exports: exportsMap() };
}

/** tsconfig.json "paths": the package's own names resolve to the sources. */
function tsconfigPaths() {
  const paths = {};
  for (const entry of entries) paths[entry.specifier] = [`./${entry.source}`];
  return paths;
}

function jestModuleNameMapper() {
  const mapper = {};
  for (const entry of entries) mapper[`^${entry.specifier}$`] = `<rootDir>/${entry.source}`;
  return mapper;
}

module.exports = { PACKAGE, root, entries, exportsMap, typesVersions, packageFields, tsconfigPaths, jestModuleNameMapper };
