import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';

/**
 * A redis-server of a test's own on a loopback port, to kill (SIGKILL), hang (SIGSTOP/SIGCONT) and
 * restart on the same port, with an append-only file fsynced at every write (a kill loses nothing
 * written) or without any persistence (a restart is empty). Data lives under `dir`.
 */
export class OwnRedis {
  private server: ChildProcess | undefined;
  private generation = 0;

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it; resolves once it answers. `persist`: AOF in dir/aof (kept across restarts); else a fresh empty folder. */
  async start(persist: boolean): Promise<void> {
    const dir = path.join(this.dir, persist ? 'aof' : `empty-${++this.generation}`);
    fs.mkdirSync(dir, { recursive: true });
    const server = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', dir].concat(
        persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'],
      ),
      { stdio: 'ignore' },
    );
    server.on('error', () => undefined);
    this.server = server;
    const probe = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (const started = Date.now(); Date.now() - started < 30_000; await new Promise((resolve) => setTimeout(resolve, 50))) {
        if (server.exitCode !== null) break;
        try {
          if (probe.status !== 'ready') await probe.connect();
          // An AOF still loading answers LOADING: not up yet.
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          probe.disconnect();
        }
      }
    } finally {
      probe.disconnect();
    }
    server.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** SIGKILL, as a crash: resolves once it is gone. */
  kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined || server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    server.kill('SIGCONT');
    server.kill('SIGKILL');
    return exited;
  }

  /** Hung: connections stay open, nothing is answered until resume(). */
  pause(): void {
    this.server?.kill('SIGSTOP');
  }

  resume(): void {
    this.server?.kill('SIGCONT');
  }
}
