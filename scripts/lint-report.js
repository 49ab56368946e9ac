#!/usr/bin/env node
// Counts ESLint findings per rule and per top-level folder, for tracking the way to a clean lint
// (`npm run lint` lists them one by one). Exits 1 when there are findings.
'use strict';
const path = require('node:path');
const { ESLint } = require('eslint');

const root = path.resolve(__dirname, '..');

async function main() {
  const eslint = new ESLint({ cwd: root });
  const results = await eslint.lintFiles(['.']);
  const counts = new Map();
  let total = 0;
  for (const result of results) {
    const folder = path.relative(root, result.filePath).split('/')[0];
    for (const message of result.messages) {
      const rule = message.ruleId ?? '(unused disable / parse error)';
      const row = counts.get(rule) ?? { total: 0 };
      row.total += 1;
      row[folder] = (row[folder] ?? 0) + 1;
      counts.set(rule, row);
      total += 1;
    }
  }
  const rows = [...counts].sort((a, b) => b[1].total - a[1].total);
  for (const [rule, { total: n, ...byFolder }] of rows) {
    const where = Object.entries(byFolder)
      .map(([folder, count]) => `${folder} ${count}`)
      .join(', ');
    console.log(`${String(n).padStart(5)}  ${rule}  (${where})`);
  }
  console.log(`${String(total).padStart(5)}  findings in ${results.filter((r) => r.messages.length).length} of ${results.length} files`);
  process.exitCode = total ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
