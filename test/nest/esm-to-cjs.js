'use strict';
// NestJS 12 ships ES modules only. Node >= 20.19 require()s them natively, but jest's CommonJS
// module loader cannot, so the test run compiles those files to CommonJS with esbuild.
// Files of CommonJS packages pass through untouched.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const typeOfDir = new Map();

function isEsm(filename) {
  if (filename.endsWith('.mjs')) return true;
  if (filename.endsWith('.cjs')) return false;
  for (let dir = path.dirname(filename); ; dir = path.dirname(dir)) {
    const cached = typeOfDir.get(dir);
    if (cached !== undefined) return cached;
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const esm = JSON.parse(fs.readFileSync(manifest, 'utf8')).type === 'module';
      typeOfDir.set(dir, esm);
      return esm;
    }
    if (path.dirname(dir) === dir) return false;
  }
}

const self = fs.readFileSync(__filename);

module.exports = {
  getCacheKey(source, filename) {
    return crypto.createHash('sha256').update(self).update(esbuild.version).update(filename).update(source).digest('hex');
  },
  process(source, filename) {
    if (!isEsm(filename)) return { code: source };
    const { code } = esbuild.transformSync(source, {
      format: 'cjs',
      loader: 'js',
      target: 'node20',
      sourcefile: filename,
      define: { 'import.meta.url': '__stiggGateImportMetaUrl' },
      banner: 'var __stiggGateImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
    });
    return { code };
  },
};
