import fs from 'node:fs';
import pathModule from 'node:path';
import type { Logger, PendingUsage } from '../core';
import { JournalLock, STALE_MS } from './journal-lock';

/** Lines appended before the file is rewritten with only what is still pending. */
const COMPACT_AFTER = 10_000;
const STALE_S = STALE_MS / 1000;

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
 * by Stigg). One process per file: a lock file names the process using it, across pid namespaces and
 * hosts (journal-lock.ts); a process whose lock was taken from it stops writing to the file.
 */
export class UsageJournal {
  private fd: number;
  private readonly lock: JournalLock;
  /** Written and not done yet, by report id. */
  private readonly pending = new Map<string, Entry>();
  private lines = 0;
  /** Lines at which compaction is tried next: after a failed one, another COMPACT_AFTER lines later (not on every report). */
  private compactAt = COMPACT_AFTER;
  private closed = false;
  private heartbeatFailed = false;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {
    const lock = `${path}.lock`;
    if (openHere.has(pathModule.resolve(lock))) {
      throw new TypeError(
        `RedisStore: the usage journal "${path}" is used by another RedisStore of this process; give each store its own file.`,
      );
    }
    this.lock = new JournalLock(lock, path, { lost: (holder) => this.lost(holder), failed: (error) => this.heartbeatFailing(error) });
    openHere.add(pathModule.resolve(lock));
    try {
      let text = '';
      try {
        text = fs.readFileSync(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      this.lines = load(text, this.pending);
      this.fd = fs.openSync(path, 'a');
      // A last line cut by a kill must not swallow the next one.
      if (text !== '' && !text.endsWith('\n')) fs.writeSync(this.fd, '\n');
    } catch (error) {
      this.lock.release();
      openHere.delete(pathModule.resolve(lock));
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
    if (this.lines >= this.compactAt && this.lines >= 4 * this.pending.size) this.compact();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
    this.lock.release();
    openHere.delete(pathModule.resolve(this.lock.path));
  }

  /** Another process took the file (it judged this one gone): writing on would corrupt what it keeps. */
  private lost(holder: string): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
    openHere.delete(pathModule.resolve(this.lock.path));
    this.logger.error(
      { path: this.path, holder, held: this.pending.size },
      `RedisStore: the usage journal was taken over by ${holder}, which found this process's lock not refreshed for ${STALE_S} s ` +
        '(an event loop blocked that long, or a second process started on the same file); this process stops writing to it, and ' +
        'what it holds now is in memory only. Give each process its own journal file (one journal file per process, e.g. per pod).',
    );
  }

  private heartbeatFailing(error: Error): void {
    if (this.heartbeatFailed) return;
    this.heartbeatFailed = true;
    this.logger.warn(
      { path: this.lock.path, error: error.message },
      `RedisStore: the usage journal's lock could not be refreshed; other containers or hosts on the same file take it over once it is ${STALE_S} s old`,
    );
  }

  private append(line: string): void {
    // A blocked event loop may have let another process take the file: it is checked before writing.
    if (!this.lock.ours()) return;
    try {
      fs.writeSync(this.fd, `${line}\n`);
      this.lines += 1;
    } catch (error) {
      this.logger.error({ path: this.path, error: (error as Error).message }, 'RedisStore: the usage journal could not be written');
    }
  }

  /**
   * Only what is pending is kept: written to a new file, renamed over the old one (atomic). Only while
   * the lock is still ours, and from the file as it is (plus what this process holds): a line another
   * writer added is never erased.
   */
  private compact(): void {
    if (!this.lock.held()) return;
    const next = `${this.path}.next`;
    const kept = new Map<string, Entry>();
    try {
      load(fs.readFileSync(this.path, 'utf8'), kept);
      for (const [id, entry] of this.pending) if (!kept.has(id)) kept.set(id, entry);
      const body = [...kept.values()].map((entry) => `${JSON.stringify({ k: entry.key, r: entry.report })}\n`).join('');
      fs.writeFileSync(next, body);
      fs.renameSync(next, this.path);
      // The descriptor still points at the old file: appends go to the new one from now on.
      fs.closeSync(this.fd);
      this.fd = fs.openSync(this.path, 'a');
      this.lines = kept.size;
      this.compactAt = COMPACT_AFTER;
    } catch (error) {
      // Tried again once as many lines again were appended: failing, it read the whole file on every report.
      this.compactAt = this.lines + COMPACT_AFTER;
      this.logger.error({ path: this.path, error: (error as Error).message }, 'RedisStore: the usage journal could not be compacted');
    }
  }
}

/** Adds to `pending` what `text` (journal lines) leaves pending; the number of lines. */
function load(text: string, pending: Map<string, Entry>): number {
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    lines += 1;
    let entry: { k?: unknown; r?: PendingUsage; d?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // A line cut by the kill itself: the report was not handed over yet (its request still counts it).
      continue;
    }
    if (typeof entry.d === 'string') pending.delete(entry.d);
    else if (typeof entry.k === 'string' && entry.r !== undefined && typeof entry.r.id === 'string') {
      pending.set(entry.r.id, { key: entry.k, report: entry.r });
    }
  }
  return lines;
}

/** Journals open in this process (by lock path): two stores on one file would each replay it. */
const openHere = new Set<string>();

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
