import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { entries } from '../../scripts/entries';

/*
 * The public surface is locked per entry point: what each one exports at run time (names), and what
 * its types declare (test/package/surface/<entry>.api.md, generated from the built .d.ts by
 * scripts/api-report.js). A change to either fails here until it is accepted on purpose:
 * `npm run api:report` rewrites the files, and the diff is what a reviewer (and a user) sees.
 */

const root = path.resolve(__dirname, '..', '..');
const committed = JSON.parse(fs.readFileSync(path.join(root, 'test', 'package', 'surface', 'runtime-exports.json'), 'utf8')) as Record<
  string,
  string[]
>;

it('lists every entry point of entries.json, and no other', () => {
  expect(Object.keys(committed).sort()).toEqual(entries.map((entry) => entry.specifier).sort());
});

it.each(entries.map((entry) => [entry.specifier]))(
  '%s exports exactly the names of test/package/surface/runtime-exports.json (accept a change with npm run api:report)',
  (specifier) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the entry point by its package name (jest maps it to the source)
    const names = Object.keys(require(specifier) as object)
      .filter((name) => name !== '__esModule')
      .sort();
    const expected = committed[specifier] ?? [];
    const added = names.filter((name) => !expected.includes(name));
    const removed = expected.filter((name) => !names.includes(name));
    expect({ specifier, added, removed }).toEqual({ specifier, added: [], removed: [] });
  },
);

it('the declarations of every entry point match test/package/surface/*.api.md (accept a change with npm run api:report)', async () => {
  // Builds dist first when a source changed (a no-op after npm test's pretest build), then compares.
  const check = promisify(execFile)(process.execPath, [path.join(root, 'scripts', 'api-report.js'), '--check'], { cwd: root });
  await expect(check.then(() => 'unchanged')).resolves.toBe('unchanged');
}, 240_000);
