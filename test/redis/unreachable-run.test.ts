import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { closedPort, START_REDIS } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');

it('without Redis, a run of the Redis suites fails and says so once, in one line with the start command (CI=true too)', async () => {
  const url = `redis://127.0.0.1:${await closedPort()}`;
  const run = spawnSync(
    process.execPath,
    [
      require.resolve('jest/bin/jest'),
      '--runInBand',
      '--ci',
      'test/redis/store.test.ts',
      'test/redis/shared-usage.test.ts',
      'test/redis/fleet.test.ts',
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, REDIS_URL: url, CI: 'true' } },
  );
  const output = `${run.stdout}${run.stderr}`;
  expect(run.status).not.toBe(0);
  const howTo = output.split('\n').filter((line) => line.includes(START_REDIS));
  expect(howTo).toHaveLength(1);
  expect(howTo[0]).toContain(url);
  expect(howTo[0]).toMatch(/ECONNREFUSED/);
  expect(output).toMatch(/Test Suites: 3 failed, 3 total/);
  expect(output).not.toMatch(/skipped/);
  expect(output.split('\n').length).toBeLessThan(40);
}, 90_000);
