/**
 * The client as Cloudflare workerd (Hono) would run it: bundled for a neutral platform and evaluated
 * in a fresh V8 context that has fetch, URL, AbortController and timers, but no require, no process,
 * no Buffer; timers are plain numbers, and fetch refuses to be called as another object's method
 * ("Illegal invocation", as workerd does).
 */
import path from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';
import { startFakeStigg } from './helpers/graphql-server';
import type { FakeStigg } from './helpers/graphql-server';

const root = path.resolve(__dirname, '../..');
let stigg: FakeStigg;
let bundle: string;

beforeAll(async () => {
  stigg = await startFakeStigg();
  const result = await build({
    stdin: { contents: "export { Stigg } from './src/client';", resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    platform: 'neutral',
    format: 'iife',
    globalName: 'stiggGate',
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0]?.text ?? '';
});
afterAll(() => stigg.close());

function workerLikeContext(): vm.Context {
  const timers = new Map<number, NodeJS.Timeout>();
  let next = 1;
  const context: Record<string, unknown> = {
    URL,
    AbortController,
    Headers,
    Response,
    console,
    setTimeout: (fn: () => void, ms: number): number => {
      const id = next++;
      timers.set(
        id,
        setTimeout(() => (timers.delete(id), fn()), ms),
      );
      return id;
    },
    clearTimeout: (id: number): void => {
      clearTimeout(timers.get(id));
      timers.delete(id);
    },
  };
  context.fetch = function workerFetch(this: unknown, input: string, init?: RequestInit): Promise<Response> {
    if (this !== undefined && this !== context.globalThis)
      throw new TypeError("Illegal invocation: function called with incorrect 'this' reference");
    return fetch(input, init);
  };
  const created = vm.createContext(context);
  context.globalThis = vm.runInContext('globalThis', created);
  return created;
}

describe('the client without Node (workerd-like context)', () => {
  it('checks an entitlement and reports usage', async () => {
    const context = workerLikeContext();
    expect(vm.runInContext('typeof require + typeof process + typeof Buffer', context)).toBe('undefinedundefinedundefined');
    vm.runInContext(bundle, context);
    context.key = stigg.apiKey;
    context.url = stigg.url;
    const run = vm.runInContext(
      `(async () => {
        const client = stiggGate.Stigg.createClient(key, { apiUrl: url, timeoutMs: 2000 });
        const entitlement = await client.getEntitlement({ customerId: 'customer-demo-01', featureId: 'feature-01-templates', options: { requestedUsage: 1 } });
        const [usage] = await client.reportUsageBulk({ usages: [{ customerId: 'customer-demo-01', featureId: 'feature-01-templates', value: 1, idempotencyKey: 'w-1' }] });
        return JSON.stringify({ granted: entitlement.isGranted, usage: usage.currentUsage });
      })()`,
      context,
    ) as Promise<string>;
    expect(JSON.parse(await run)).toEqual({ granted: true, usage: 4 });
  });

  it('says where the key comes from when there is no process.env', () => {
    const context = workerLikeContext();
    vm.runInContext(bundle, context);
    expect(() => vm.runInContext('stiggGate.Stigg.createClient()', context)).toThrow(/no API key\. Set STIGG_SERVER_API_KEY.*or pass it/);
  });
});
