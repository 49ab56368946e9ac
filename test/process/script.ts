import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { entries } from '../../scripts/entries';

const ROOT = path.resolve(__dirname, '..', '..');

/** 'stigg-gate' and 'stigg-gate/<entry>' come from src/ (bundled in); every other package stays external. */
const packages: Plugin = {
  name: 'stigg-gate-from-src',
  setup(plugin) {
    const sources = new Map(entries.map((entry) => [entry.specifier, path.join(ROOT, entry.source)]));
    plugin.onResolve({ filter: /^[^./]/ }, (args) => {
      const source = sources.get(args.path);
      return source === undefined ? { path: args.path, external: true } : { path: source };
    });
  },
};

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Script {
  /** The running node process; `exited` settles when it ends. */
  readonly child: ReturnType<typeof spawn>;
  readonly exited: Promise<Exited>;
  /** The first line of stdout matching `pattern` (e.g. a "listening on" line). */
  line(pattern: RegExp): Promise<string>;
}

/**
 * Runs `code` (TypeScript, the package's own import names) in a plain node process, as an app's
 * script or server would run: bundled from src/ with esbuild, packages from the repository's node_modules.
 */
export async function runScript(code: string, env: Record<string, string>): Promise<Script> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stigg-gate-process-'));
  const entry = path.join(dir, 'entry.ts');
  const bundle = path.join(dir, 'bundle.js');
  await writeFile(entry, code);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'silent',
    plugins: [packages],
    tsconfigRaw: { compilerOptions: { experimentalDecorators: true, emitDecoratorMetadata: true } },
  });
  const child = spawn(process.execPath, [bundle], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', NODE_PATH: path.join(ROOT, 'node_modules'), ...env },
  });
  let stdout = '';
  let stderr = '';
  const waiting: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const wait of [...waiting]) {
      const found = stdout.split('\n').find((line) => wait.pattern.test(line));
      if (found !== undefined) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve(found);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<Exited>((resolve) => {
    child.once('close', (code, signal) => {
      void rm(dir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    exited,
    line(pattern) {
      const found = stdout.split('\n').find((line) => pattern.test(line));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiting.push({ pattern, resolve });
        void exited.then(({ code, stderr: errors }) =>
          reject(new Error(`the script exited (${String(code)}) before printing ${String(pattern)}: ${errors}`)),
        );
      });
    },
  };
}
