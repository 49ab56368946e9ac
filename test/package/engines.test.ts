/**
 * package.json "engines" says what CI runs the package on: the Node majors, Bun and Deno that .ci/run
 * passes to scripts/node-matrix.js (the CI's own Node runs the whole suite besides).
 */
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string } & Record<string, string>;
};
const matrixLine = fs
  .readFileSync(path.join(root, '.ci', 'run'), 'utf8')
  .split('\n')
  .find((line) => line.startsWith('node scripts/node-matrix.js '));
const matrix = (matrixLine ?? '').split(/\s+/).slice(2);

test('.ci/run runs the runtime matrix', () => {
  expect(matrix.length).toBeGreaterThan(0);
});

test('engines.node admits exactly the Node majors the matrix runs, each from a stated minimum', () => {
  const ranges = manifest.engines.node.split('||').map((range) => range.trim());
  expect(ranges.every((range) => /^\^\d+\.\d+\.\d+$/.test(range))).toBe(true);
  const majors = ranges.map((range) => range.slice(1).split('.')[0]);
  expect(majors.sort()).toEqual(matrix.filter((target) => /^\d+$/.test(target)).sort());
});

test('engines names Bun and Deno exactly when the matrix runs them', () => {
  const others = Object.keys(manifest.engines).filter((name) => name !== 'node');
  expect(others.sort()).toEqual(matrix.filter((target) => !/^\d+$/.test(target)).sort());
});
