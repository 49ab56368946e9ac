// Run: npx jest --testMatch '**/*.repro.ts' -- test/attack/repro/journal-lock-pid-namespaces.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a test then.
// Needs root (unshare --pid): each child is pid 1 of its own pid namespace, as in two containers.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { UsageJournal } from '../../../src/redis/journal';

// Adversarial pass on issue 26, fix 4 (the RedisStore `journal`): "One process per file: a lock file
// names the process using it." The lock holds a pid and is taken over when that pid is not alive, or
// is the opener's own pid — both only meaningful in the opener's pid namespace. Two containers (pods)
// mounting one volume at the same journal path — the misconfiguration the lock is there to refuse —
// are both pid 1 (or see no such pid): the second opens the file as if the first had died. Measured:
// A (pid 1 of its namespace) opens the file; B (pid 1 of another) opens it too, without an error; A
// journals 3 commits Redis refused; B journals 6,000 commits Redis took, and its compaction rewrites the
// file from its own memory (A's new lines are not there); A then dies without close(): the next
// process on the file finds 0 of A's 3 held commits (the journal's whole point: "a SIGKILL no longer loses it"). Hint: a lock that means
// something across hosts and containers (flock/fcntl on an open descriptor for one host; a random
// token written with the pid and host name, refused unless it is provably stale), and compaction that
// rereads the file rather than rewriting from this process's memory.

const JOURNAL_TS = path.resolve(__dirname, '..', '..', '..', 'src', 'redis', 'journal.ts');

function childScript(dir: string): string {
  const { outputText } = ts.transpileModule(fs.readFileSync(JOURNAL_TS, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  fs.writeFileSync(path.join(dir, 'journal.js'), outputText);
  const child = path.join(dir, 'child.js');
  fs.writeFileSync(
    child,
    `'use strict';
const { UsageJournal } = require('./journal.js');
const [file, role] = process.argv.slice(2);
const logger = { warn() {}, error() {} };
const report = (id) => ({ id, idempotencyKey: id, customerId: 'c', featureId: 'f', value: 1, updateBehavior: 'DELTA', createdAt: '2026-12-07T00:00:00.000Z', attempts: 0 });
let journal;
try { journal = new UsageJournal(file, logger); } catch (error) { process.stdout.write('refused ' + error.message + '\\n'); process.exit(0); }
process.stdout.write('opened as pid ' + process.pid + '\\n');
if (role === 'A') {
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (text) => {
    if (text.includes('hold')) {
      for (const n of [1, 2, 3]) journal.written('k', report('held-by-A-' + n));
      process.stdout.write('held\\n');
    }
    if (text.includes('die')) process.exit(1); // dies without close()
  });
} else {
  for (let n = 0; n < 6000; n++) { journal.written('k', report('B-' + n)); journal.done('B-' + n); }
  journal.close();
  process.stdout.write('done\\n');
}
`,
  );
  return child;
}

function start(
  child: string,
  file: string,
  role: 'A' | 'B',
): { process: ChildProcess; lines: string[]; next: (match: RegExp) => Promise<string> } {
  const proc = spawn('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, child, file, role], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<{ match: RegExp; resolve: (line: string) => void }> = [];
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      lines.push(line);
      for (const waiter of waiters.splice(0)) {
        if (waiter.match.test(line)) waiter.resolve(line);
        else waiters.push(waiter);
      }
    }
  });
  return {
    process: proc,
    lines,
    next: (match) =>
      new Promise((resolve) => {
        const seen = lines.find((line) => match.test(line));
        if (seen !== undefined) resolve(seen);
        else waiters.push({ match, resolve });
      }),
  };
}

test("Repro (unfixed): two containers on one journal file both open it, and the second one's compaction loses the first one's held commits", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-journal-ns-'));
  const file = path.join(dir, 'usage.journal');
  const child = childScript(dir);
  const a = start(child, file, 'A');
  try {
    expect(await a.next(/^opened|^refused/)).toBe('opened as pid 1');
    const b = start(child, file, 'B');
    // The lock should refuse B (A is alive and holds the file); it does not.
    expect(await b.next(/^opened|^refused/)).toBe('opened as pid 1');
    a.process.stdin?.write('hold\n'); // Redis refuses 3 of A's commits: journaled
    await a.next(/^held$/);
    await b.next(/^done$/);
    const aGone = new Promise((resolve) => a.process.once('exit', resolve));
    a.process.stdin?.write('die\n');
    await aGone;
    const next = new UsageJournal(file, { warn: () => {}, error: () => {} });
    const left = next.left.map((entry) => entry.report.id);
    next.close();
    expect(left.filter((id) => id.startsWith('held-by-A-'))).toEqual([]);
  } finally {
    a.process.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
