import fs from 'node:fs';
import path from 'node:path';
import { entries, jestModuleNameMapper } from '../../scripts/entries';
import { disagreements } from '../../scripts/sync-entries';

/*
 * entries.json is the one list of public entry points. Everything else that names them is derived
 * from it (scripts/sync-entries.js writes package.json and tsconfig.json; the build, jest and the
 * README test read it) and must agree with it. A listed entry must have its source: "pending" only
 * lets the build skip it while a parallel branch brings the source, never this test.
 */

const root = path.resolve(__dirname, '..', '..');

it.each(entries.map((entry) => [entry.subpath, entry.source]))('%s has its source, %s', (_subpath, source) => {
  expect(fs.existsSync(path.join(root, source))).toBe(true);
});

it('package.json (main, types, typesVersions, exports) and tsconfig.json (paths) agree with entries.json', () => {
  expect(disagreements()).toEqual([]);
});

it("jest maps the package's names to the listed sources", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest.config.js is CommonJS and untyped
  const config = require('../../jest.config.js') as { moduleNameMapper: Record<string, string> };
  expect(config.moduleNameMapper).toEqual(jestModuleNameMapper());
  expect(Object.keys(config.moduleNameMapper)).toHaveLength(entries.length);
});

it('names no subpath twice and has the root', () => {
  const subpaths = entries.map((entry) => entry.subpath);
  expect(new Set(subpaths).size).toBe(subpaths.length);
  expect(subpaths).toContain('.');
});
