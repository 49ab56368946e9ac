import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Emulator } from '../../src/emulator';
import { childNodePath, REDIS_URL } from './helpers';

export const CUSTOMER = 'customer-fleet';
export const FEATURE = 'feature-02-campaigns';

/** Every worker started, so a suite's afterAll can SIGKILL what is left. */
export const workers = new Set<ChildProcess>();

export interface Worker {
  readonly child: ChildProcess;
  readonly port: number;
  readonly stderr: string[];
  flush(): Promise<void>;
  /** The usage the worker decides with; `refresh` drops its cached value first. */
  usage(refresh: boolean): Promise<number>;
  close(): Promise<{ storeErrors: string[] }>;
}

export function startWorker(dist: string, emulator: Emulator, prefix: string, usage: Record<string, number>, port = 0): Promise<Worker> {
  const child = fork(path.join(__dirname, 'fixtures', 'worker.js'), [], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: childNodePath(),
      STIGG_GATE_DIST: dist,
      STIGG_GATE_WORKER: JSON.stringify({
        apiKey: emulator.apiKey,
        apiUrl: emulator.url,
        redisUrl: REDIS_URL,
        prefix,
        usage,
        commandTimeoutMs: 5000,
        port,
      }),
    },
  });
  workers.add(child);
  child.once('exit', () => workers.delete(child));
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  let nextId = 0;
  function request<T>(type: string, answer: string, extra: Record<string, unknown> = {}): Promise<T> {
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type: string; id?: number }) => {
        if (message.type !== answer || (message.id !== undefined && message.id !== id)) return;
        child.off('message', onMessage);
        resolve(message as T);
      };
      child.on('message', onMessage);
      child.once('exit', () => reject(new Error(`worker exited before "${answer}": ${stderr.join('')}`)));
      child.send({ type, id, ...extra });
    });
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready within 60s: ${stderr.join('')}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)}: ${stderr.join('')}`)));
    child.on('message', function ready(message: { type: string; port?: number }) {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve({
        child,
        port: message.port as number,
        stderr,
        flush: async () => {
          const reply = await request<{ error?: string }>('flush', 'flushed');
          if (reply.error !== undefined) throw new Error(reply.error);
        },
        usage: async (refresh) => {
          const reply = await request<{ currentUsage?: number; error?: string }>('check', 'checked', {
            customerId: CUSTOMER,
            featureId: FEATURE,
            refresh,
          });
          if (reply.error !== undefined) throw new Error(reply.error);
          return reply.currentUsage as number;
        },
        close: async () => {
          const reply = await request<{ storeErrors: string[] }>('close', 'closed');
          child.kill();
          return reply;
        },
      });
    });
  });
}
