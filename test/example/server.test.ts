import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { parseCurl } from './curl';

/*
 * `npm start` as a newcomer runs it: it builds what changed, saying so, and serves on a random port;
 * the printed curl story is replayed with fetch, then SIGTERM goes to npm's pid (as a supervisor
 * sends it), which must reach the server and flush the granted usage to the (in-process) emulator.
 * A build right after has nothing left to do.
 */

const root = path.resolve(__dirname, '..', '..');

let child: ChildProcessWithoutNullStreams | undefined;
let output = '';

function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise(function poll(resolve, reject) {
    const deadline = Date.now() + timeoutMs;
    const timer = setInterval(function check() {
      const match = pattern.exec(output);
      if (match !== null) {
        clearInterval(timer);
        resolve(match);
      } else if (Date.now() > deadline || child?.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`the example never printed ${pattern}; it printed:\n${output}`));
      }
    }, 25);
  });
}

afterAll(() => {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is gone: everything npm started has exited.
  }
});

it('prints a curl story that works as printed, and flushes usage on SIGTERM', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  delete env.STIGG_SERVER_API_KEY;
  delete env.STIGG_API_URL;
  // A process group of its own, so that afterAll can end whatever npm leaves behind.
  child = spawn('npm', ['start'], { cwd: root, env, detached: true });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });

  await waitForOutput(/Stop with Ctrl-C/, 90_000);
  expect(output).toMatch(/^build: (dist\/cjs is up to date|tsc src\/ → dist\/cjs)/m);
  expect(output).toMatch(/^build: (examples\/express-app\/dist is up to date|tsc examples\/express-app\/src)/m);
  const baseUrl = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(output);
  expect(baseUrl?.[2]).toMatch(/^[1-9]\d*$/);

  const steps = [...output.matchAll(/^# \d+\. (.+) \(expect (\d{3})(?: (\w+))?\)\n(curl .+)$/gm)];
  expect(steps.map((step) => step[2])).toEqual(['201', '402', '402', '403', '200', '201']);

  const granted: Record<string, number> = {};
  for (const [, title, status, reason, command] of steps) {
    const curl = parseCurl(command ?? '');
    expect(curl.url.startsWith(baseUrl?.[1] ?? '?')).toBe(true);
    const response = await fetch(curl.url, { method: curl.method, headers: curl.headers, body: curl.body ?? null });
    const body = (await response.json()) as Record<string, unknown>;
    expect({ title, status: response.status }).toEqual({ title, status: Number(status) });
    if (reason !== undefined) expect({ title, reason: body.accessDeniedReason }).toEqual({ title, reason });
    if (response.ok && curl.url.endsWith('/templates')) granted['feature-01-templates'] = (granted['feature-01-templates'] ?? 0) + 1;
    if (response.ok && curl.url.endsWith('/campaigns')) {
      granted['feature-02-campaigns'] = (granted['feature-02-campaigns'] ?? 0) + Number(JSON.parse(curl.body ?? '{}').count);
    }
  }
  expect(granted).toEqual({ 'feature-01-templates': 1, 'feature-02-campaigns': 5 });

  // The emulator's statistics need its API key; the banner's command carries it.
  const statsCommand = /its statistics: (curl .+)$/m.exec(output);
  const stats = parseCurl(statsCommand?.[1] ?? '');
  const statsResponse = await fetch(stats.url, { headers: stats.headers });
  expect(statsResponse.status).toBe(200);
  // Usage may still be buffered at this point (it is flushed on a timer and on SIGTERM): only the shape is known.
  expect(typeof ((await statsResponse.json()) as { usage?: unknown }).usage).toBe('object');

  // One more grant, then SIGTERM at once, before the next flush: only the shutdown can deliver it.
  const first = parseCurl(steps[0]?.[4] ?? '');
  expect((await fetch(first.url, { method: first.method, headers: first.headers })).status).toBe(201);
  granted['feature-01-templates'] = (granted['feature-01-templates'] ?? 0) + 1;
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

  const again = execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, encoding: 'utf8' });
  expect(again.trim().split('\n')).toEqual([
    expect.stringMatching(/^build: dist\/cjs is up to date/),
    'build: examples/express-app/dist is up to date',
  ]);
}, 150_000);
