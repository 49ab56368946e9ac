import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { parseCurl } from '../example/curl';

/*
 * `npm run start:nest` as a newcomer runs it: the compiled NestJS example on a random port, the printed
 * curl story replayed with fetch, then SIGTERM, which must flush the granted usage to the emulator.
 */

const root = path.resolve(__dirname, '..', '..');
const exampleDir = path.join(root, 'examples', 'nest-app');

let child: ChildProcessWithoutNullStreams | undefined;
let output = '';

function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise(function poll(resolve, reject) {
    const deadline = Date.now() + timeoutMs;
    const timer = setInterval(function check() {
      if (pattern.test(output)) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() > deadline || child?.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`the example never printed ${pattern}; it printed:\n${output}`));
      }
    }, 25);
  });
}

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist', 'cjs', 'nest', 'index.js'))) {
    throw new Error('The library is not built with stigg-gate/nest: run `npm run build` before this test.');
  }
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(exampleDir, 'tsconfig.json')], { stdio: 'pipe' });
}, 60_000);

afterAll(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
});

it('prints a curl story that works as printed, and flushes usage on SIGTERM through enableShutdownHooks', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  delete env.STIGG_SERVER_API_KEY;
  delete env.STIGG_API_URL;
  child = spawn(process.execPath, [path.join(exampleDir, 'dist', 'main.js')], { cwd: root, env });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });

  await waitForOutput(/Stop with Ctrl-C/, 20_000);
  const baseUrl = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(output);
  expect(baseUrl?.[2]).toMatch(/^[1-9]\d*$/);

  const steps = [...output.matchAll(/^# \d+\. (.+) \(expect (\d{3})(?: (\w+))?\)\n(curl .+)$/gm)];
  expect(steps.map((step) => step[2])).toEqual(['201', '402', '402', '403', '401', '201', '201']);

  const granted: Record<string, number> = {};
  for (const [, title, status, reason, command] of steps) {
    const curl = parseCurl(command ?? '');
    expect(curl.url.startsWith(baseUrl?.[1] ?? '?')).toBe(true);
    const response = await fetch(curl.url, { method: curl.method, headers: curl.headers, body: curl.body ?? null });
    const body = (await response.json()) as Record<string, unknown>;
    expect({ title, status: response.status }).toEqual({ title, status: Number(status) });
    if (reason !== undefined) {
      expect({ title, reason: body.accessDeniedReason, type: response.headers.get('content-type') }).toEqual({
        title,
        reason,
        type: 'application/problem+json; charset=utf-8',
      });
    }
    if (response.ok && curl.url.endsWith('/templates')) granted['feature-01-templates'] = (granted['feature-01-templates'] ?? 0) + 1;
    if (response.ok && curl.url.endsWith('/campaigns')) {
      granted['feature-02-campaigns'] = (granted['feature-02-campaigns'] ?? 0) + Number(JSON.parse(curl.body ?? '{}').count);
    }
  }
  expect(granted).toEqual({ 'feature-01-templates': 1, 'feature-02-campaigns': 5 });

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('stopped') });
  const recorded = /usage recorded by the emulator (\{.*\})$/m.exec(output);
  const usage = (JSON.parse(recorded?.[1] ?? '{}') as { usage?: Record<string, number> }).usage;
  expect(usage).toEqual({
    'demo-basic||feature-01-templates': granted['feature-01-templates'],
    'demo-basic||feature-02-campaigns': granted['feature-02-campaigns'],
  });
}, 60_000);
