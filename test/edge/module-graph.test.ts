import { builtinModules } from 'node:module';
import path from 'node:path';
import { WORKER_ENTRY, bundleWorker, type Bundle } from './bundle';

// Workers have no node: built-ins unless nodejs_compat is on: the code a Hono app on Workers loads
// (stigg-gate/hono, and createEntitlements + the client from the root entry) must import none.
// Only the decorators and the lazily loaded request context may reach for AsyncLocalStorage.

const root = path.resolve(__dirname, '..', '..');
const HONO_ENTRY = path.join(root, 'src', 'middleware', 'hono', 'index.ts');
const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const ALLOWED = (file: string) => file.startsWith('src/decorators/') || file === 'src/core/context.ts';

function builtinImports(bundle: Bundle): string[] {
  const found: string[] = [];
  for (const [file, input] of Object.entries(bundle.metafile.inputs)) {
    for (const imported of input.imports) {
      if (BUILTINS.has(imported.path) || imported.path.startsWith('node:')) found.push(`${file} -> ${imported.path}`);
    }
  }
  return found.sort();
}

describe('the module graph of stigg-gate/hono and the root entry', () => {
  let bundle: Bundle;
  beforeAll(async () => {
    // Built-ins stay external so that every one is listed, not only the first that fails the build.
    bundle = await bundleWorker([HONO_ENTRY, WORKER_ENTRY], ['node:*', ...builtinModules]);
  }, 60_000);

  test('walks the whole path: the Hono adapter, the gate, the core engine and the client', () => {
    const files = Object.keys(bundle.metafile.inputs);
    for (const expected of [
      'src/middleware/hono/index.ts',
      'src/middleware/gate.ts',
      'src/core/entitlements.ts',
      'src/core/usage-buffer.ts',
      'src/client/client.ts',
      'src/client/transport.ts',
    ]) {
      expect(files).toContain(expected);
    }
  });

  test('imports no node: built-in outside the decorators and the request context', () => {
    expect(builtinImports(bundle).filter((line) => !ALLOWED(line.split(' -> ')[0] ?? ''))).toEqual([]);
  });

  test('the check can fail: the emulator, a Node-only entry, is caught', async () => {
    const emulator = await bundleWorker([path.join(root, 'src', 'emulator', 'index.ts')], ['node:*', ...builtinModules]);
    expect(builtinImports(emulator)).toContain('src/emulator/server.ts -> node:http');
  }, 60_000);
});
