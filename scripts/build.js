#!/usr/bin/env node
// Builds the package: TypeScript to CommonJS in dist/cjs, the .graphql and .json assets beside it,
// and one thin ESM wrapper per entry point in dist/esm. The wrappers re-export the CommonJS build,
// so `import` and `require` consumers share one module instance (one cache, one usage buffer).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const tsc = require.resolve('typescript/bin/tsc');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

function copyAssets(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyAssets(source, target);
    else if (/\.(graphql|json)$/.test(entry.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, target);
    }
  }
}
copyAssets(path.join(root, 'src'), path.join(dist, 'cjs'));

const cli = path.join(dist, 'cjs', 'emulator', 'cli.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);

const entries = {
  index: 'index.js',
  express: 'middleware/express/index.js',
  koa: 'middleware/koa/index.js',
  fastify: 'middleware/fastify/index.js',
  hono: 'middleware/hono/index.js',
  decorators: 'decorators/index.js',
  emulator: 'emulator/index.js',
  redis: 'redis/index.js',
};
fs.mkdirSync(path.join(dist, 'esm'), { recursive: true });
for (const [name, file] of Object.entries(entries)) {
  const cjsPath = path.join(dist, 'cjs', file);
  if (!fs.existsSync(cjsPath)) continue;
  const names = Object.keys(require(cjsPath)).filter((n) => n !== 'default' && n !== '__esModule');
  const rel = path.posix.join('..', 'cjs', file);
  const lines = [
    `import mod from '${rel}';`,
    ...(names.length ? [`export const { ${names.join(', ')} } = mod;`] : []),
    'export default mod;',
    '',
  ];
  fs.writeFileSync(path.join(dist, 'esm', `${name}.mjs`), lines.join('\n'));
}

const example = path.join(root, 'examples', 'express-app', 'tsconfig.json');
if (fs.existsSync(example)) {
  execFileSync(process.execPath, [tsc, '-p', example], { stdio: 'inherit' });
}
