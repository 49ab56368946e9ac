import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from 'ioredis';
import { closedPort } from './helpers';
import { sleep } from '../support/time';

export interface LocalCluster {
  readonly ports: number[];
  connect(): Promise<Cluster>;
  stop(): Promise<void>;
}

/** A loopback port whose cluster bus port (+10000) is free too. */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = await closedPort();
    if (port + 10000 > 65535) continue;
    return port;
  }
}

/**
 * Three masters (no replicas) on free loopback ports, made with `redis-server --cluster-enabled yes`
 * and `redis-cli --cluster create`, in a temporary folder removed by stop().
 */
export async function startCluster(): Promise<LocalCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stigg-gate-cluster-'));
  const ports = [await clusterPort(), await clusterPort(), await clusterPort()];
  const servers: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        path.join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    ),
  );
  // A failed spawn (no redis-server) is reported by the wait below, not as an uncaught 'error'.
  for (const server of servers) server.on('error', () => undefined);
  const stop = async (): Promise<void> => {
    for (const server of servers) server.kill('SIGKILL');
    await Promise.all(
      servers.map((server) => (server.exitCode !== null ? undefined : new Promise((resolve) => server.once('exit', resolve)))),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (
        let waited = 0;
        spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG';
        waited += 50
      ) {
        if (waited > 5000) throw new Error(`redis-server on port ${port} did not start`);
        await sleep(50);
      }
    }
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) {
      for (
        let waited = 0;
        !/cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout);
        waited += 100
      ) {
        if (waited > 10_000) throw new Error(`the cluster never became ok on port ${port}`);
        await sleep(100);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ports,
    async connect() {
      const cluster = new Cluster(
        ports.map((port) => ({ host: '127.0.0.1', port })),
        { redisOptions: { maxRetriesPerRequest: 1 } },
      );
      cluster.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        cluster.once('ready', resolve);
        cluster.once('end', () => reject(new Error('the cluster client could not connect')));
      });
      return cluster;
    },
    stop,
  };
}
