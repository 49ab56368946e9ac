#!/usr/bin/env node
// npm run test:mutation [-- <file filter>[:<lines>]... --concurrency N --tests <suite,...>]
//
// StrykerJS over the money paths: the files where a one-token change grants access that was not
// paid for, denies a paying customer, or loses or doubles a unit of usage. Each file is mutated
// alone and only against the suites that cover it (perTest coverage runs, for each mutant, only the
// tests that reach it), so the whole gauge runs in well under an hour on 2 cores. Not part of npm test.
//
// Per file: "detected" = (killed + timed out) / valid mutants (no coverage counts as survived). The
// reports (HTML and JSON) go to reports/mutation/<file>.*. Exits 1 when a file is under THRESHOLD.
//
// `usage-buffer:200-300` mutates only those lines of the file (Stryker's `mutate` ranges; several
// ranges: `leases:40-90,200-260`), for a file whose whole run would take too long or a re-check of
// one function. `--tests` replaces the file's suites (comma-separated paths) for one run.
'use strict';

const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const THRESHOLD = 90;

const core = (...names) => names.map((name) => `test/core/${name}.test.ts`);
const redis = (...names) => names.map((name) => `test/redis/${name}.test.ts`);
const middleware = (...names) => names.map((name) => `test/middleware/${name}.test.ts`);

/**
 * Each money-path file, most important first, with the suites that pin it: its unit suites and the few
 * end-to-end ones written for its behaviour. Every mutant loads each listed suite again (jest has no
 * per-file filter here), so the lists are kept short; the Redis suites (but the fleet's fallback total,
 * which only Redis counts) and the slow differential suite (test/conformance/decisions.test.ts) are
 * left out: the figures are lower bounds.
 */
const TARGETS = [
  { file: 'src/core/decide.ts', tests: core('decide', 'decide-pins', 'decide-rules-pins') },
  {
    file: 'src/core/usage-buffer.ts',
    tests: core('usage-buffer-pins', 'retry-backoff-pins', 'systemic-refusal', 'usage', 'durable-usage', 'flapping-refusal'),
  },
  {
    file: 'src/core/failure-policy.ts',
    tests: [
      ...core('policies', 'fallback-pins', 'logging', 'entitlements'),
      ...core('fallback-limit-late-release', 'settle-fallback-overrun', 'fallback-limit-many-keys', 'read-bound-never-fails-open'),
      // The only suite that reaches the fleet's total (Store.takeFallback): a unique key prefix, so it may share a Redis.
      'test/redis/fallback-fleet.test.ts',
    ],
  },
  {
    file: 'src/core/leases.ts',
    tests: [...core('lease-pins', 'metered-path', 'settle', 'fallback-pins'), ...core('unsettled-lease-lapses')],
  },
  // The end-to-end overrun suites (redis settle-overrun-signal, core settle-fallback-overrun, redis overrun-watch) wait on
  // the 2 s watch in real time: about 2 h under Stryker on 2 cores. overrun-pins drives the same rule on a fake clock.
  { file: 'src/core/overrun.ts', tests: core('overrun-pins', 'settle') },
  { file: 'src/core/circuit-breaker.ts', tests: core('circuit-breaker', 'retry-backoff-pins', 'usage-buffer-pins') },
  { file: 'src/core/retry-delay.ts', tests: core('retry-backoff-pins') },
  { file: 'src/util/id-table.ts', tests: core('id-table-pins', 'metered-path', 'races', 'memory-store') },
  { file: 'src/core/usage-ledger.ts', tests: core('usage', 'usage-buffer-pins', 'metered-path', 'settle') },
  { file: 'src/core/memory-outbox.ts', tests: [...core('memory-outbox-pins', 'memory-store', 'usage'), ...core('outbox-bound')] },
  {
    file: 'src/core/stranded.ts',
    tests: [
      ...core('stranded-pins', 'usage', 'loss-warnings'),
      ...core('commit-after-close'),
      ...redis('commit-outage', 'late-commit-handed-over'),
    ],
  },
  { file: 'src/core/refusals.ts', tests: core('systemic-refusal', 'usage-buffer-pins', 'flapping-refusal') },
  {
    file: 'src/middleware/settle.ts',
    tests: [
      ...core('settlement-pins'),
      ...middleware('settlement'),
      ...middleware('abandoned-stream-answer', 'denial-releases-earlier-gates'),
    ],
  },
];

function parseArgs(argv) {
  const filters = [];
  let concurrency = 2;
  let tests;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--concurrency') concurrency = Number(argv[(i += 1)]);
    else if (arg.startsWith('--concurrency=')) concurrency = Number(arg.slice('--concurrency='.length));
    else if (arg === '--tests') tests = argv[(i += 1)].split(',');
    else if (arg.startsWith('--tests=')) tests = arg.slice('--tests='.length).split(',');
    else if (arg === '--help' || arg === '-h') {
      console.log('npm run test:mutation [-- <file filter>[:<lines>]... --concurrency N --tests <suite,...>]\n\nFiles:');
      for (const target of TARGETS) console.log(`  ${target.file}`);
      process.exit(0);
    } else filters.push(arg);
  }
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new TypeError('--concurrency expects a positive integer');
  if (tests !== undefined && tests.some((test) => test === '')) throw new TypeError('--tests expects comma-separated suite paths');
  const targets =
    filters.length === 0
      ? TARGETS
      : filters.flatMap((filter) => {
          const [word, lines] = filter.split(':');
          if (lines !== undefined && !/^\d+-\d+(,\d+-\d+)*$/.test(lines))
            throw new TypeError(`${filter}: lines are <from>-<to>[,<from>-<to>]`);
          const matched = TARGETS.filter((target) => target.file.includes(word));
          if (matched.length === 0) throw new TypeError(`No money-path file matches ${word}; see --help`);
          return matched.map((target) => ({ ...target, lines: lines?.split(',') }));
        });
  return { targets: tests === undefined ? targets : targets.map((target) => ({ ...target, tests })), concurrency };
}

const DETECTED = new Set(['Killed', 'Timeout']);
const INVALID = new Set(['CompileError', 'RuntimeError', 'Ignored']);

function score(results) {
  const counts = {};
  for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
  const valid = results.filter((result) => !INVALID.has(result.status)).length;
  const detected = results.filter((result) => DETECTED.has(result.status)).length;
  return { counts, valid, detected, percent: valid === 0 ? 100 : (100 * detected) / valid };
}

async function mutate(target, concurrency) {
  const { Stryker } = await import('@stryker-mutator/core');
  const name = path.basename(target.file, '.ts');
  const stryker = new Stryker({
    mutate: target.lines === undefined ? [target.file] : target.lines.map((range) => `${target.file}:${range}`),
    testRunner: 'jest',
    plugins: ['@stryker-mutator/jest-runner'],
    jest: {
      projectType: 'custom',
      configFile: 'jest.config.js',
      enableFindRelatedTests: false,
      config: { testMatch: target.tests.map((test) => `<rootDir>/${test}`) },
    },
    coverageAnalysis: 'perTest',
    concurrency,
    timeoutMS: 10_000,
    reporters: ['progress', 'clear-text', 'html', 'json'],
    htmlReporter: { fileName: `reports/mutation/${name}.html` },
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    clearTextReporter: { reportScoreTable: true, allowColor: false, logTests: false },
    thresholds: { high: THRESHOLD, low: 80, break: null },
    ignorePatterns: ['dist', 'bench', 'examples', 'coverage', 'reports', '.bench-out', '.stryker-tmp'],
    tempDirName: '.stryker-tmp',
    fileLogLevel: 'off',
    logLevel: 'info',
  });
  return score(await stryker.runMutationTest());
}

async function main() {
  process.chdir(ROOT);
  const { targets, concurrency } = parseArgs(process.argv.slice(2));
  const rows = [];
  for (const target of targets) {
    const started = Date.now();
    const result = await mutate(target, concurrency);
    const file = target.lines === undefined ? target.file : `${target.file}:${target.lines.join(',')}`;
    rows.push({ file, ...result, minutes: (Date.now() - started) / 60_000 });
  }
  console.log('\nMutation gauge (detected = killed + timed out over valid mutants):');
  for (const row of rows) {
    const { Killed = 0, Timeout = 0, Survived = 0, NoCoverage = 0 } = row.counts;
    console.log(
      `  ${row.percent.toFixed(1).padStart(5)} %  ${row.file.padEnd(30)} ${row.detected}/${row.valid} ` +
        `(killed ${Killed}, timeout ${Timeout}, survived ${Survived}, no coverage ${NoCoverage}) ${row.minutes.toFixed(1)} min`,
    );
  }
  const under = rows.filter((row) => row.percent < THRESHOLD);
  if (under.length > 0) {
    console.log(`Under ${THRESHOLD} %: ${under.map((row) => row.file).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
