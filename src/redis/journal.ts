import fs from 'node:fs';
import pathModule from 'node:path';
import type { Logger, PendingUsage } from '../core';

/** Lines appended before the file is rewritten with only what is still pending. */
const COMPACT_AFTER = 10_000;

interface Entry {
  readonly key: string;
  readonly report: PendingUsage;
}

/**
 * An append-only file of the usage reports this process handed to Redis and Redis has not taken yet
 * (RedisStore `journal` option): each commit is written before it is sent (one line) and marked done
 * once Redis took it (another line). A process killed while Redis is down (SIGKILL: the page cache
 * keeps what was written) leaves its held commits there; the next process started with the same file
 * queues them again (the same report ids and idempotency keys: queued once in the outbox, counted once
 * by Stigg). One process per file: a lock file names the process using it.
 */
export class UsageJournal {
  private fd: number;
  private readonly lock: string;
  /** Written and not done yet, by report id. */
  private readonly pending = new Map<string, Entry>();
  private lines = 0;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {
    this.lock = `${path}.lock`;
    takeLock(this.lock);
    try {
      const cut = this.read();
      this.fd = fs.openSync(path, 'a');
      // A last line cut by a kill must not swallow the next one.
      if (cut) fs.writeSync(this.fd, '\n');
    } catch (error) {
      fs.rmSync(this.lock, { force: true });
      openHere.delete(pathModule.resolve(this.lock));
      throw error;
    }
  }

  /** Reports left by the process that used this file before (killed, or closed with Redis down). */
  get left(): Array<{ key: string; report: PendingUsage }> {
    return [...this.pending.values()];
  }

  /** Before the report is sent to Redis: once written, a SIGKILL no longer loses it. */
  written(key: string, report: PendingUsage): void {
    if (this.closed || this.pending.has(report.id)) return;
    this.append(JSON.stringify({ k: key, r: report }));
    this.pending.set(report.id, { key, report });
  }

  /** Redis took it (in its outbox, or it was there already). */
  done(id: string): void {
    if (this.closed || !this.pending.delete(id)) return;
    this.append(JSON.stringify({ d: id }));
    // Rewritten once most lines are settled ones: never once per report while many are pending.
    if (this.lines >= COMPACT_AFTER && this.lines >= 4 * this.pending.size) this.compact();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
    fs.rmSync(this.lock, { force: true });
    openHere.delete(pathModule.resolve(this.lock));
  }

  private append(line: string): void {
    try {
      fs.writeSync(this.fd, `${line}\n`);
      this.lines += 1;
    } catch (error) {
      this.logger.error({ path: this.path, error: (error as Error).message }, 'RedisStore: the usage journal could not be written');
    }
  }

  /** Only what is pending is kept: written to a new file, renamed over the old one (atomic). */
  private compact(): void {
    const next = `${this.path}.next`;
    const body = [...this.pending.values()].map((entry) => `${JSON.stringify({ k: entry.key, r: entry.report })}\n`).join('');
    try {
      fs.writeFileSync(next, body);
      fs.renameSync(next, this.path);
      // The descriptor still points at the old file: appends go to the new one from now on.
      fs.closeSync(this.fd);
      this.fd = fs.openSync(this.path, 'a');
      this.lines = this.pending.size;
    } catch (error) {
      this.logger.error({ path: this.path, error: (error as Error).message }, 'RedisStore: the usage journal could not be compacted');
    }
  }

  /** Loads what is pending; true when the file ends in a cut line. */
  private read(): boolean {
    let text: string;
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      this.lines += 1;
      let entry: { k?: unknown; r?: PendingUsage; d?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        // A line cut by the kill itself: the report was not handed over yet (its request still counts it).
        continue;
      }
      if (typeof entry.d === 'string') this.pending.delete(entry.d);
      else if (typeof entry.k === 'string' && entry.r !== undefined && typeof entry.r.id === 'string') {
        this.pending.set(entry.r.id, { key: entry.k, report: entry.r });
      }
    }
    return text !== '' && !text.endsWith('\n');
  }
}

/** Journals open in this process (by lock path): two stores on one file would each replay it. */
const openHere = new Set<string>();

/** One process per journal: a lock file with its pid; a lock of a process that is gone is taken over. */
function takeLock(lock: string): void {
  if (openHere.has(pathModule.resolve(lock))) {
    throw new TypeError(
      `RedisStore: the usage journal "${lock.slice(0, -5)}" is used by another RedisStore of this process; give each store its own file.`,
    );
  }
  takeFileLock(lock);
  openHere.add(pathModule.resolve(lock));
}

function takeFileLock(lock: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(fs.readFileSync(lock, 'utf8'));
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new TypeError(
        `RedisStore: the usage journal "${lock.slice(0, -5)}" is used by process ${holder}; give each process its own journal file (e.g. one per host or pod).`,
      );
    }
    fs.rmSync(lock, { force: true });
  }
  throw new Error(`RedisStore: could not take the usage journal's lock "${lock}"`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The store's journal, opened, and what its previous process left queued again through `store`. */
export function openJournal(
  file: string,
  logger: Logger,
  store: { enqueueUsage(key: string, report: PendingUsage): Promise<void> },
  stopped: () => boolean,
): UsageJournal {
  const journal = new UsageJournal(file, logger);
  replayJournal(journal, (key, report) => store.enqueueUsage(key, report), stopped);
  return journal;
}

/**
 * Queues again, with `enqueue`, what the journal's previous process left, until Redis takes each
 * (retried every second while it does not answer); each taken one is marked done.
 */
function replayJournal(journal: UsageJournal, enqueue: (key: string, report: PendingUsage) => Promise<void>, stopped: () => boolean): void {
  const left = journal.left;
  if (left.length === 0) return;
  const next = async (): Promise<void> => {
    while (left.length > 0 && !stopped()) {
      const { key, report } = left[0] as { key: string; report: PendingUsage };
      try {
        await enqueue(key, report);
      } catch {
        setTimeout(() => void next(), 1000).unref();
        return;
      }
      left.shift();
    }
  };
  void next();
}
