import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';

export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Emits src/ as CommonJS (what scripts/build.js puts in dist/cjs, assets included) into a private
 * temporary folder, file by file without type checking: seconds instead of a full tsc run, and the
 * shared dist/ that other suites read is left alone. Worker processes load it with plain node.
 */
export function buildToTemp(): string {
  const configFile = ts.readConfigFile(path.join(ROOT, 'tsconfig.build.json'), (file) => ts.sys.readFile(file));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  const compilerOptions: ts.CompilerOptions = { ...options, declaration: false, sourceMap: false, noEmit: false };
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-redis-test-'));
  const src = path.join(ROOT, 'src');
  (function emit(from: string, to: string): void {
    fs.mkdirSync(to, { recursive: true });
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
      const source = path.join(from, entry.name);
      if (entry.isDirectory()) emit(source, path.join(to, entry.name));
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), { compilerOptions, fileName: source });
        fs.writeFileSync(path.join(to, entry.name.replace(/\.ts$/, '.js')), outputText);
      } else if (/\.(graphql|json)$/.test(entry.name)) {
        fs.copyFileSync(source, path.join(to, entry.name));
      }
    }
  })(src, out);
  return out;
}
