'use strict';
// `npm run bench`: every benchmark, side by side in one run, one JSON summary on stdout.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const summary = { node: process.version, startedAt: new Date().toISOString() };
  const core = path.join(__dirname, 'core.js');
  if (fs.existsSync(core)) {
    const out = execFileSync(process.execPath, ['--expose-gc', core], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    Object.assign(summary, { core: JSON.parse(out) });
  }
  if (!process.env.BENCH_SKIP_OTEL) {
    const out = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, 'otel.js')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    Object.assign(summary, JSON.parse(out));
  }
  if (!process.env.BENCH_SKIP_HTTP) Object.assign(summary, await require('./http.js').main());
  if (!process.env.BENCH_SKIP_NEST) Object.assign(summary, await require('./nest.js').main());
  if (!process.env.BENCH_SKIP_METERED) Object.assign(summary, await require('./metered.js').main());
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
