#!/usr/bin/env node
// `npm start` (`exec node scripts/start.js [example]`, default express-app): builds what changed
// (scripts/build.js), then runs the example's dist/server.js or dist/main.js in this very process.
// The script's `exec` makes this process the one npm started (dash does not exec a lone command by
// itself), so the SIGTERM or SIGINT sent to `npm start` reaches the server's own handlers, which
// finish requests and flush usage before exiting.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const example = process.argv[2] ?? 'express-app';
try {
  execFileSync(process.execPath, [path.join(__dirname, 'build.js'), '--example', example], { stdio: 'inherit' });
} catch (error) {
  process.stderr.write(`start: the build failed (${error.status ?? error.message}); not starting the example\n`);
  process.exit(typeof error.status === 'number' && error.status > 0 ? error.status : 1);
}
const dist = path.join(__dirname, '..', 'examples', example, 'dist');
const main = ['server.js', 'main.js'].map((file) => path.join(dist, file)).find((file) => fs.existsSync(file));
if (main === undefined) {
  process.stderr.write(`start: examples/${example}/dist has neither server.js nor main.js\n`);
  process.exit(1);
}
require(main);
