import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

/** How often the holder refreshes its lock file's mtime (an unref'd timer). */
export const HEARTBEAT_MS = 1000;
/** A lock not refreshed for this long (by the holder's clock and the opener's) belongs to a process that is gone. */
export const STALE_MS = 5000;
/** However old the lock looks (clocks can disagree), an opener watches it this long before it takes it over. */
export const MIN_QUIET_MS = 2500;
const POLL_MS = 100;
/** Take-overs lost to other openers before giving up (each re-evaluates the new holder). */
const ATTEMPTS = 6;
/** Tokens of the locks this process holds: a lock naming this process is another store's of it, reached by another path. */
const heldHere = new Set<string>();

/** Who holds a lock: enough to decide, from anywhere that shares the file, whether it still does. */
interface Owner {
  readonly host: string;
  /** /proc/sys/kernel/random/boot_id: pid namespaces' ids are only unique within one boot of one kernel. */
  readonly boot: string | null;
  /** readlink /proc/self/ns/pid: a pid means something only in its own pid namespace. */
  readonly pidns: string | null;
  readonly pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot): a reused pid has another one. */
  readonly start: number | null;
  /** Random, per opening: a lock file is ours only while it holds our token. */
  readonly token: string;
}

/** The lock file as an opener found it. */
interface Seen {
  readonly text: string;
  readonly mtimeMs: number;
  readonly owner: Owner | undefined;
}

export interface LockEvents {
  /** The lock file now names another process: it judged this one gone (its heartbeat stopped long enough). */
  lost(holder: string): void;
  /** The heartbeat could not be written (the lock is kept; others may judge it stale). */
  failed(error: Error): void;
}

/**
 * One process per journal file, across pid namespaces, containers and hosts sharing a volume: a lock
 * file (`<journal>.lock`) names its holder (host, boot, pid namespace, pid, start time, token), and the
 * holder refreshes its mtime every second. An opener in the holder's pid namespace (same host and boot)
 * asks the kernel: the holder is alive (same pid, same start time) → refused; gone → taken over at
 * once. Elsewhere it cannot ask: it watches the lock, refused as soon as the heartbeat moves, taking
 * it over once the lock has not moved for STALE_MS (at least MIN_QUIET_MS watched). Taking over is
 * race-free: the stale file is renamed aside (one opener can), checked, and a new one linked in
 * (exclusive create).
 */
export class JournalLock {
  readonly text: string;
  private readonly token = randomBytes(12).toString('hex');
  private readonly heartbeat: NodeJS.Timeout;
  private stopped = false;
  /** When the heartbeat last refreshed the lock (this process's monotonic clock). */
  private beat = performance.now();

  constructor(
    readonly path: string,
    private readonly journal: string,
    private readonly events: LockEvents,
  ) {
    this.text = JSON.stringify({ ...identity(), token: this.token });
    this.acquire();
    this.heartbeat = setInterval(() => this.held(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** True while the lock file holds this process's token (refreshed; put back if it vanished); else reports the loss. */
  held(): boolean {
    if (this.stopped) return false;
    try {
      let seen = look(this.path);
      if (seen === undefined && !this.create()) seen = look(this.path);
      if (seen !== undefined && seen.text !== this.text) {
        this.stop();
        this.events.lost(describe(seen.owner));
        return false;
      }
      const now = new Date();
      fs.utimesSync(this.path, now, now);
      this.beat = performance.now();
    } catch (error) {
      this.events.failed(error as Error);
    }
    return true;
  }

  /**
   * Before a write: true while the lock is surely still ours. A heartbeat late by more than a beat (the
   * event loop was blocked: others may have judged this process gone, after MIN_QUIET_MS at the least)
   * is checked on the file first; a lock taken meanwhile is reported lost, and nothing may be written.
   */
  ours(): boolean {
    if (this.stopped) return false;
    return performance.now() - this.beat < 2 * HEARTBEAT_MS || this.held();
  }

  /** Stops the heartbeat; the lock file is removed only while it is still ours. */
  release(): void {
    if (this.stopped) return;
    this.stop();
    try {
      if (look(this.path)?.text === this.text) fs.rmSync(this.path, { force: true });
    } catch {
      // Left behind: the next opener finds it stale.
    }
  }

  private stop(): void {
    this.stopped = true;
    heldHere.delete(this.token);
    clearInterval(this.heartbeat);
  }

  private acquire(): void {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (this.create()) {
        if (look(this.path)?.text === this.text) {
          heldHere.add(this.token);
          return;
        }
        continue;
      }
      const seen = look(this.path);
      if (seen === undefined) continue;
      const owner = seen.owner;
      const self = identity();
      const legacy = owner === undefined ? legacyPid(seen.text) : undefined;
      if (owner !== undefined && samePlace(owner, self)) {
        // The same file under another name (a symlinked directory): this process's own lock, still held.
        if (owner.pid === process.pid && heldHere.has(owner.token)) {
          throw new TypeError(
            `RedisStore: the usage journal "${this.journal}" is used by another RedisStore of this process (the same file by another path); give each store its own file.`,
          );
        }
        if (aliveHere(owner)) throw this.refusal(`process ${owner.pid} on this host (${owner.host})`);
      } else if (
        legacy !== undefined &&
        aliveHere({ ...self, pid: legacy, start: null, token: '' }) &&
        !startedAfter(legacy, seen.mtimeMs)
      ) {
        throw this.refusal(`process ${legacy} (a lock of an earlier version, without a heartbeat)`);
      } else if (!this.quiet(seen)) continue;
      this.setAside(seen.text);
    }
    throw new TypeError(
      `RedisStore: could not take the usage journal's lock "${this.path}": other processes kept taking it. ${ONE_PER_PROCESS}`,
    );
  }

  /**
   * Watches a lock of another pid namespace (or host): false when it changed hands meanwhile (decide
   * again), true once it has not moved long enough; throws when its heartbeat moves.
   */
  private quiet(seen: Seen): boolean {
    const watched = performance.now();
    const age = Math.max(0, Date.now() - seen.mtimeMs);
    const needed = Math.max(MIN_QUIET_MS, STALE_MS - age);
    const clock = new Int32Array(new SharedArrayBuffer(4));
    while (performance.now() - watched < needed) {
      Atomics.wait(clock, 0, 0, POLL_MS);
      const again = look(this.path);
      if (again === undefined || again.text !== seen.text) return false;
      if (again.mtimeMs !== seen.mtimeMs) {
        const ago = (Math.max(0, Date.now() - again.mtimeMs) / 1000).toFixed(1);
        throw this.refusal(
          `${describe(seen.owner)} in another pid namespace (another container, or another machine sharing the volume), whose lock was refreshed ${ago} s ago`,
          ` A lock is taken over once its process stopped refreshing it for ${STALE_MS / 1000} s.`,
        );
      }
    }
    return true;
  }

  /** Moves the stale lock file out of the way, unless another opener replaced it first (then it is put back). */
  private setAside(stale: string): void {
    const aside = `${this.path}.${this.token}.stale`;
    try {
      fs.renameSync(this.path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      if (fs.readFileSync(aside, 'utf8') !== stale) fs.linkSync(aside, this.path);
    } catch {
      // Someone created a lock meanwhile: theirs stands (the one moved aside finds it lost).
    } finally {
      fs.rmSync(aside, { force: true });
    }
  }

  /** Creates the lock file with this process's identity, whole (written aside, then linked in); false when one exists. */
  private create(): boolean {
    const draft = `${this.path}.${this.token}.new`;
    fs.writeFileSync(draft, this.text, { flag: 'w' });
    try {
      fs.linkSync(draft, this.path);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
      // A file system without hard links: exclusive create (a reader may see it empty for a moment).
      return createExclusive(this.path, this.text);
    } finally {
      fs.rmSync(draft, { force: true });
    }
  }

  private refusal(holder: string, after = ''): TypeError {
    return new TypeError(`RedisStore: the usage journal "${this.journal}" is used by ${holder}. ${ONE_PER_PROCESS}${after}`);
  }
}

const ONE_PER_PROCESS = 'Give each process its own journal file (one journal file per process, e.g. per pod).';

function createExclusive(file: string, text: string): boolean {
  try {
    fs.writeFileSync(file, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The lock file, read through a fresh descriptor (NFS revalidates on open); undefined when there is none. */
function look(file: string): Seen | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { mtimeMs } = fs.fstatSync(fd);
    const text = fs.readFileSync(fd, 'utf8');
    return { text, mtimeMs, owner: parse(text) };
  } finally {
    fs.closeSync(fd);
  }
}

function parse(text: string): Owner | undefined {
  // A lock of an earlier version holds only a pid: where it lives is unknown.
  if (!text.startsWith('{')) return undefined;
  try {
    const owner = JSON.parse(text) as Partial<Owner>;
    if (typeof owner.host !== 'string' || typeof owner.token !== 'string' || !Number.isSafeInteger(owner.pid)) return undefined;
    return {
      host: owner.host,
      boot: typeof owner.boot === 'string' ? owner.boot : null,
      pidns: typeof owner.pidns === 'string' ? owner.pidns : null,
      pid: owner.pid as number,
      start: typeof owner.start === 'number' ? owner.start : null,
      token: owner.token,
    };
  } catch {
    return undefined;
  }
}

/** An earlier version's lock: its pid, nothing else (taken to mean this pid namespace). */
function legacyPid(text: string): number | undefined {
  const pid = Number(text);
  return /^\d+$/.test(text.trim()) && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function describe(owner: Owner | undefined): string {
  return owner === undefined
    ? 'a process of unknown identity (lock of an earlier version)'
    : `process ${owner.pid} on host "${owner.host}"`;
}

/** Same host, same boot, same pid namespace: its pid is one this process can ask the kernel about. */
function samePlace(owner: Owner, self: Omit<Owner, 'token'>): boolean {
  return owner.host === self.host && owner.boot === self.boot && owner.pidns === self.pidns;
}

/** The holder (in this pid namespace) is running: its pid is alive and not reused by another process. */
function aliveHere(owner: Owner): boolean {
  if (owner.pid === process.pid || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.start === null || !procIsOurs()) return true;
  const start = startTime(String(owner.pid));
  return start === null || start === owner.start;
}

let cached: Omit<Owner, 'token'> | undefined;

function identity(): Omit<Owner, 'token'> {
  if (cached?.pid !== process.pid) {
    cached = {
      host: os.hostname(),
      boot: readProc(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
      pidns: readProc(() => fs.readlinkSync('/proc/self/ns/pid')),
      pid: process.pid,
      start: startTime('self'),
    };
  }
  return cached;
}

/**
 * The process now at `pid` started after the lock file was written (by /proc/stat's boot time and its start
 * ticks, USER_HZ 100): it is not the one that wrote it, e.g. pid 1 of a container started after an earlier
 * version's container (whose node was pid 1) was killed. False when /proc cannot tell.
 */
function startedAfter(pid: number, writtenMs: number): boolean {
  if (!procIsOurs()) return false;
  const start = startTime(String(pid));
  const boot = readProc(() => Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]));
  if (start === null || boot === null || !Number.isFinite(boot)) return false;
  // Boot time is in whole seconds, the lock's mtime may be coarse: a margin of 2 s.
  return boot * 1000 + start * 10 > writtenMs + 2000;
}

/** /proc is this pid namespace's (a pid namespace entered without mounting its own /proc shows the parent's pids). */
function procIsOurs(): boolean {
  return readProc(() => Number.parseInt(fs.readFileSync('/proc/self/stat', 'utf8'), 10)) === process.pid;
}

/** Field 22 of /proc/<pid>/stat, after the command name (which may hold spaces and parentheses). */
function startTime(pid: string): number | null {
  return readProc(() => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isSafeInteger(start) ? start : null;
  });
}

/** What /proc says, or null where there is none (macOS, Windows) or it cannot be read. */
function readProc<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
