#!/usr/bin/env node
// Writes what entries.json implies into package.json (main, types, typesVersions, exports) and
// tsconfig.json (paths). With --check it changes nothing and exits 1 if either file disagrees.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');
const { root, packageFields, tsconfigPaths } = require('./entries');

const pkgFile = path.join(root, 'package.json');
const tsconfigFile = path.join(root, 'tsconfig.json');

/** Returns obj with the given keys replaced in place (order kept); missing keys are added after `after`. */
function withFields(obj, fields, after) {
  const out = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] = key in fields ? fields[key] : value;
    if (key === after) for (const [k, v] of Object.entries(fields)) if (!(k in obj)) out[k] = v;
  }
  for (const [k, v] of Object.entries(fields)) if (!(k in out)) out[k] = v;
  return out;
}

/** The fields of package.json and tsconfig.json that disagree with entries.json, as 'file: field'. */
function disagreements() {
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  const tsconfig = JSON.parse(fs.readFileSync(tsconfigFile, 'utf8'));
  const stale = [];
  for (const [field, value] of Object.entries(packageFields())) {
    if (!isDeepStrictEqual(pkg[field], value)) stale.push(`package.json: ${field}`);
  }
  if (!isDeepStrictEqual(tsconfig.compilerOptions?.paths, tsconfigPaths())) stale.push('tsconfig.json: compilerOptions.paths');
  return stale;
}

async function write() {
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  // npm's own layout, so that `npm install` leaves the file as this script wrote it.
  fs.writeFileSync(pkgFile, `${JSON.stringify(withFields(pkg, packageFields(), 'types'), null, 2)}\n`);
  const tsconfig = JSON.parse(fs.readFileSync(tsconfigFile, 'utf8'));
  tsconfig.compilerOptions.paths = tsconfigPaths();
  const prettier = require('prettier');
  const options = (await prettier.resolveConfig(tsconfigFile)) ?? {};
  fs.writeFileSync(tsconfigFile, await prettier.format(JSON.stringify(tsconfig), { ...options, filepath: tsconfigFile }));
}

if (require.main === module) {
  const stale = disagreements();
  if (process.argv.includes('--check')) {
    for (const field of stale) console.error(`${field} disagrees with entries.json: run node scripts/sync-entries.js`);
    process.exitCode = stale.length ? 1 : 0;
  } else if (!stale.length) {
    console.log('sync-entries: package.json and tsconfig.json already agree with entries.json');
  } else {
    write().then(
      () => console.log(`sync-entries: wrote ${stale.join(', ')}`),
      (error) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
  }
}

module.exports = { disagreements };
