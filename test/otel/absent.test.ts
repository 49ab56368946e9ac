import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { entries } from '../../scripts/entries';

// No cost without the peer: in a process where @opentelemetry/* cannot be resolved, every entry
// point but stigg-gate/otel loads (none of them imports it), and stigg-gate/otel fails naming the peer.
const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');

const SCRIPT = `
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request.startsWith('@opentelemetry/')) {
    const error = new Error("Cannot find module '" + request + "'");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
const out = {};
for (const [name, file] of JSON.parse(process.argv[1])) {
  try {
    require(file);
    out[name] = 'loaded';
  } catch (error) {
    out[name] = String(error.message).split('\\n')[0];
  }
}
process.stdout.write(JSON.stringify(out));
`;

test('without @opentelemetry/api every entry but stigg-gate/otel loads; that one names the missing peer', async () => {
  const files = entries.map((entry) => [entry.specifier, path.join(root, entry.cjs)]);
  const { stdout } = await run(process.execPath, ['-e', SCRIPT, JSON.stringify(files)], { cwd: root, timeout: 60_000 });
  const loaded = JSON.parse(stdout) as Record<string, string>;
  const expected = Object.fromEntries(entries.map((entry) => [entry.specifier, 'loaded']));
  expected['stigg-gate/otel'] = "Cannot find module '@opentelemetry/api'";
  expect(loaded).toEqual(expected);
}, 90_000);
