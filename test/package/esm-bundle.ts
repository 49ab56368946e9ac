/**
 * An app importing one entry point of the installed package, bundled as an ES module by esbuild
 * (`--bundle --format=esm --platform=node`, the peers left external as apps do with frameworks) and
 * run. Before the "module" build, every such bundle died at load: the CommonJS build (and lru-cache's)
 * require('node:…'), which an ES module bundle cannot do ("Dynamic require of … is not supported").
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const run = promisify(execFile);

export interface BundleRun {
  /** The entry point's export names, as the bundle saw them. */
  keys: string[];
  /** Files of the installed package the bundle was made of (relative to the package). */
  packageInputs: string[];
  /** Whether the core's client made a real call to the emulator (both bundled), for the root entry point. */
  call?: unknown;
  /** What a RedisStore given a URL says in the bundle (no require() to load ioredis with), for stigg-gate/redis. */
  redisUrl?: string;
  bytes: number;
}

/** The probe: the entry point's names; for the root entry point, a call to the emulator as well. */
function app(specifier: string): string {
  const call =
    specifier === 'stigg-gate'
      ? `
const { startEmulator } = await import('stigg-gate/emulator');
const emulator = await startEmulator({ port: 0 });
try {
  const client = mod.Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
  out.call = await client.getEntitlement({ customerId: 'nobody', featureId: 'feature-04-analytics' });
} finally {
  await emulator.stop();
}`
      : specifier === 'stigg-gate/redis'
        ? `
try {
  new mod.RedisStore({ redis: 'redis://127.0.0.1:6379' });
} catch (error) {
  out.redisUrl = error.message;
}`
        : '';
  return `import * as mod from '${specifier}';
const out = { keys: Object.keys(mod).sort() };${call}
process.stdout.write(JSON.stringify(out));
`;
}

/** Bundles an app of `specifier` in `consumerDir` (where the package and its dependencies are installed) and runs it. */
export async function bundleAndRun(consumerDir: string, specifier: string, external: string[]): Promise<BundleRun> {
  const name = specifier.replace(/\W+/g, '-');
  const source = path.join(consumerDir, `${name}.app.mjs`);
  const outfile = path.join(consumerDir, `${name}.bundle.mjs`);
  fs.writeFileSync(source, app(specifier));
  const result = await build({
    entryPoints: [source],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: external.flatMap((peer) => [peer, `${peer}/*`]),
    absWorkingDir: consumerDir,
    metafile: true,
    logLevel: 'silent',
  });
  const { stdout } = await run(process.execPath, [outfile], { cwd: consumerDir, timeout: 20_000, env: { PATH: process.env.PATH } });
  const out = JSON.parse(stdout) as { keys: string[]; call?: unknown; redisUrl?: string };
  const installed = fs.realpathSync(path.join(consumerDir, 'node_modules', 'stigg-gate'));
  const packageInputs = Object.keys(result.metafile.inputs)
    .map((input) => path.relative(installed, path.resolve(consumerDir, input)))
    .filter((input) => !input.startsWith('..'));
  return { ...out, packageInputs, bytes: fs.statSync(outfile).size };
}
