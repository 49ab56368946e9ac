// npm run test:unit: the inner loop. The suites that need no Redis, no build and no child process, less
// the slowest of them; `npm test` (CI) still runs every suite.
// Two filters: whole folders whose suites are of those kinds (or are slow by design: shadow replays
// 1500 requests per stack, Nest compiles its ES modules, the SDK conformance oracles), and a content
// check of every other suite and of the helpers it imports, so that a Redis or child-process suite
// added to a "unit" folder (test/core, test/middleware …) leaves the loop by itself.
const fs = require('node:fs');
const path = require('node:path');
const base = require('./jest.config.js');

const FOLDERS = ['bundle', 'conformance', 'edge', 'example', 'nest', 'process', 'readme', 'redis', 'shadow'];
/**
 * The suites that cost the loop most (measured on 2 cores under load, 2026-12-07): the HTTP
 * tables run on every adapter and framework major, real-timer waits, the emulator served over HTTP.
 * They stay in `npm test`; run one with `npx jest <path>` when you touch what it covers.
 */
const SLOW = [
  'client/error-classes',
  'client/errors',
  'client/schema-check',
  'core/check-reports',
  'core/entitlement-set',
  'core/entitlements',
  'core/fallback-limit-many-keys',
  'core/flapping-refusal',
  'core/health',
  'core/lease-pins',
  'core/loss-warnings',
  'core/metered-path',
  'core/outbox-bound-clock',
  'core/read-bound-never-fails-open',
  'core/stranded-pins',
  'core/usage',
  'core/usage-batching',
  'decorators/http',
  'emulator/credits',
  'emulator/customers-subscriptions',
  'emulator/entitlements',
  'emulator/server',
  'middleware/abandoned-fastify-answer',
  'middleware/abandoned-handler-lapses',
  'middleware/abandoned-stream-answer',
  'middleware/after-close',
  'middleware/context',
  'middleware/decisions',
  'middleware/denial-releases-earlier-gates',
  'middleware/edge',
  'middleware/faults',
  'middleware/fetch-read-body-fails',
  'middleware/head-metered',
  'middleware/hono-body-breaks-before-head',
  'middleware/hono-wait-until',
  'middleware/koa-body-fails-before-headers',
  'middleware/late-settle-frameworks',
  'middleware/ondenied-throws-releases-earlier-gates',
  'middleware/rate-limit-headers',
  'middleware/settle-after-end',
  'middleware/settlement',
  'middleware/table',
  'middleware/uncalled-factory',
  'package/error-codes',
  'testing/no-sockets',
  'testing/parity',
  'webhook/hostile',
];
/** What a suite (or a helper it imports) needs: Redis, a child process, the build (dist/, esbuild, tsc). */
const NEEDS =
  /\bioredis\b|REDIS_URL|redis\/helpers|node:child_process|\bchild_process\b|\bminiflare\b|\bdist\/|scripts\/build|\besbuild\b|from 'typescript'/;

const testDir = path.join(__dirname, 'test');

function suites(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.')) suites(file, out);
    else if (entry.name.endsWith('.test.ts')) out.push(file);
  }
  return out;
}

/** The suite's text and that of the test helpers it imports (relative imports, followed transitively). */
function needs(file, seen = new Set()) {
  if (seen.has(file) || !fs.existsSync(file)) return false;
  seen.add(file);
  const text = fs.readFileSync(file, 'utf8');
  if (NEEDS.test(text)) return true;
  for (const match of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
    const target = path.resolve(path.dirname(file), match[1]);
    if (!target.startsWith(testDir)) continue; // the sources under test are not helpers
    if ([`${target}.ts`, path.join(target, 'index.ts')].some((candidate) => needs(candidate, seen))) return true;
  }
  return false;
}

const needing = suites(testDir).filter((file) => {
  const relative = path.relative(testDir, file).split(path.sep).join('/');
  return !FOLDERS.includes(relative.split('/')[0]) && !SLOW.some((slow) => relative === `${slow}.test.ts`) && needs(file);
});

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testPathIgnorePatterns: [
    '/node_modules/',
    ...FOLDERS.map((folder) => `<rootDir>/test/${folder}/`),
    ...SLOW.map((slow) => `<rootDir>/test/${slow}\\.test\\.ts$`),
    ...needing.map((file) => `<rootDir>/${path.relative(__dirname, file).split(path.sep).join('/').replace(/\./g, '\\.')}$`),
  ],
};
