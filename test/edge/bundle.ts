import path from 'node:path';
import { build, type Metafile } from 'esbuild';

const root = path.resolve(__dirname, '..', '..');

/** The Workers app of test/edge, bundled as a Worker is deployed: one ESM file, browser platform, no node: built-ins. */
export const WORKER_ENTRY = path.join(__dirname, 'worker.ts');

export interface Bundle {
  code: string;
  metafile: Metafile;
}

/**
 * esbuild with the conditions Cloudflare's bundler (wrangler) uses. `stigg-gate` and its subpaths
 * resolve to src/ through tsconfig.json's paths. `external` lists imports left out of the bundle
 * (the module-graph test keeps node: imports external to name them instead of failing on the first).
 */
export async function bundleWorker(entryPoints: string[] = [WORKER_ENTRY], external: string[] = []): Promise<Bundle> {
  const result = await build({
    absWorkingDir: root,
    entryPoints,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    tsconfig: path.join(root, 'tsconfig.json'),
    outdir: path.join(root, 'dist', 'edge-test'),
    external,
    metafile: true,
    logLevel: 'silent',
  });
  const [first] = result.outputFiles;
  if (first === undefined) throw new Error('esbuild produced no output');
  return { code: first.text, metafile: result.metafile };
}
