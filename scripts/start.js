#!/usr/bin/env node
// `npm start`: builds what changed (scripts/build.js), then runs the example server in this very
// process. npm's `sh -c` hands its pid over to this one command, so the SIGTERM or SIGINT sent to
// `npm start` reaches the server's own handlers, which finish requests and flush usage before exiting.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

try {
  execFileSync(process.execPath, [path.join(__dirname, 'build.js')], { stdio: 'inherit' });
} catch (error) {
  process.stderr.write(`start: the build failed (${error.status ?? error.message}); not starting the example\n`);
  process.exit(typeof error.status === 'number' && error.status > 0 ? error.status : 1);
}
require(path.join(__dirname, '..', 'examples', 'express-app', 'dist', 'server.js'));
