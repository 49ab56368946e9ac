import path from 'node:path';
import { build } from 'esbuild';

// stigg-gate/testing runs in any app's tests: it must load no framework, no Redis client and no
// emulator, only the core it shares with production.

const root = path.resolve(__dirname, '..', '..');
const FORBIDDEN = /^(express|koa|fastify|hono|@nestjs\/|ioredis|reflect-metadata|rxjs)/;

async function graphOf(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [path.join(root, entry)],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    tsconfig: path.join(root, 'tsconfig.json'),
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.values(result.metafile.inputs);
  const packages = inputs.flatMap((input) => input.imports.filter((imported) => imported.external).map((imported) => imported.path));
  return { files: Object.keys(result.metafile.inputs).sort(), packages: [...new Set(packages)].sort() };
}

test('stigg-gate/testing imports no framework, no ioredis, no emulator', async () => {
  const { files, packages } = await graphOf('src/testing/index.ts');
  expect(files).toContain('src/core/entitlements.ts');
  expect(packages.filter((name) => FORBIDDEN.test(name))).toEqual([]);
  expect(files.filter((file) => /^src\/(middleware|nest|redis|emulator|decorators)\//.test(file))).toEqual([]);
}, 60_000);

test('the check can fail: stigg-gate/nest is caught', async () => {
  const { packages } = await graphOf('src/nest/index.ts');
  expect(packages.filter((name) => FORBIDDEN.test(name))).toContain('@nestjs/common');
}, 60_000);
