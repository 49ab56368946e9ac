import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PendingUsage } from '../../src/core/types';
import { UsageJournal } from '../../src/redis/journal';

const logger = { warn: () => {}, error: () => {} };

function report(n: number): PendingUsage {
  const id = `report-${n}`;
  return {
    id,
    idempotencyKey: id,
    customerId: 'c',
    featureId: 'f',
    value: 1,
    updateBehavior: 'DELTA',
    createdAt: '2026-12-07T00:00:00.000Z',
    attempts: 0,
  };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-journal-unit-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('compaction keeps exactly the reports not done: the next journal on the file finds them, and only them', () => {
  const file = path.join(dir, 'usage.journal');
  const journal = new UsageJournal(file, logger);
  // Three held for a Redis that refused them, written first, among 12,000 that Redis took.
  for (const n of [1, 2, 3]) journal.written('k', report(n));
  for (let n = 10; n < 12_010; n++) {
    journal.written('k', report(n));
    journal.done(`report-${n}`);
  }
  journal.done('report-2');
  // Compacted: far fewer lines than the 24,000 appended.
  expect(fs.readFileSync(file, 'utf8').split('\n').length).toBeLessThan(5_000);
  journal.close();
  const next = new UsageJournal(file, logger);
  expect(next.left.map((entry) => entry.report.id)).toEqual(['report-1', 'report-3']);
  next.close();
});

it('a line cut by the kill is skipped; the lines before it count', () => {
  const file = path.join(dir, 'usage.journal');
  fs.writeFileSync(file, `${JSON.stringify({ k: 'k', r: report(1) })}\n{"k":"k","r":{"id":"rep`);
  const journal = new UsageJournal(file, logger);
  expect(journal.left.map((entry) => entry.report.id)).toEqual(['report-1']);
  // Written after the cut line: not glued to it.
  journal.written('k', report(2));
  journal.close();
  const next = new UsageJournal(file, logger);
  expect(next.left.map((entry) => entry.report.id)).toEqual(['report-1', 'report-2']);
  next.close();
});

it('a compaction that fails (here a directory left where its temporary file goes) is tried again 10,000 lines later, not on every report', () => {
  // Found attacking issue 26: once a compaction failed, every later report's done line tried again, reading the whole
  // file and logging an error each time: 1,000 reports took 9,970 ms of blocked event loop (47 ms for the 5,000 before)
  // and logged 1,001 errors.
  const file = path.join(dir, 'usage.journal');
  fs.mkdirSync(`${file}.next`);
  const errors: string[] = [];
  const journal = new UsageJournal(file, { warn: () => {}, error: (_meta: unknown, message: string) => errors.push(message) });
  for (let n = 0; n < 7_000; n++) {
    journal.written('k', report(n));
    journal.done(`report-${n}`);
  }
  expect(errors).toEqual(['RedisStore: the usage journal could not be compacted']);
  // Once it can, it compacts again.
  fs.rmdirSync(`${file}.next`);
  for (let n = 7_000; n < 12_000; n++) {
    journal.written('k', report(n));
    journal.done(`report-${n}`);
  }
  journal.close();
  expect(errors).toHaveLength(1);
  expect(fs.readFileSync(file, 'utf8').split('\n').length).toBeLessThan(5_000);
});
