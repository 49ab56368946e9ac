import type { PendingUsage } from '../core';
import { ACKED_TTL_MS } from './options';
import type { OutboxKeys } from './prefix';
import { ACK, CLAIM, RELEASE_USAGE, type Script } from './scripts';
import { assertIds, assertReport, toTtl } from './validate';

/** The store's one way to Redis: a script, through its breaker and timeout. */
export type RunScript = (operation: string, script: Script, keys: string[], args: Array<string | number>) => Promise<unknown>;

/** RedisStore.claimUsage: up to `max` reports leased for `leaseMs`, with the claims each had before. */
export async function claimUsage(run: RunScript, outbox: OutboxKeys, max: number, leaseMs: number): Promise<PendingUsage[]> {
  if (!Number.isInteger(max) || max < 0) throw new TypeError(`RedisStore.claimUsage: max must be an integer >= 0, got ${String(max)}.`);
  const lease = toTtl('claimUsage', leaseMs);
  if (max === 0) return [];
  const { reports, queue, inFlight, attempts, order } = outbox;
  const reply = (await run('claimUsage', CLAIM, [reports, queue, inFlight, attempts, order], [max, lease])) as Array<string | number>;
  const claimed: PendingUsage[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    const report = JSON.parse(String(reply[i])) as PendingUsage;
    claimed.push({ ...report, attempts: Math.max(report.attempts ?? 0, Number(reply[i + 1])) });
  }
  return claimed;
}

/** RedisStore.releaseUsage: claimed reports back in the queue in their place. Never removes one. */
export async function releaseUsage(run: RunScript, outbox: OutboxKeys, ids: string[]): Promise<void> {
  assertIds('releaseUsage', ids);
  if (ids.length === 0) return;
  const { reports, queue, inFlight, order } = outbox;
  await run('releaseUsage', RELEASE_USAGE, [reports, queue, inFlight, order], ids);
}

/** RedisStore.ackUsage: Stigg took these; their units move from the pending to the acknowledged counters. */
export async function ackUsage(run: RunScript, outbox: OutboxKeys, prefix: string, ids: string[]): Promise<void> {
  assertIds('ackUsage', ids);
  if (ids.length === 0) return;
  const { reports, keys, queue, inFlight, attempts, sequence, order } = outbox;
  await run(
    'ackUsage',
    ACK,
    [reports, keys, queue, inFlight, attempts, sequence, order],
    [`${prefix}pend:`, `${prefix}acked:`, ACKED_TTL_MS, ...ids],
  );
}

/** The keys and arguments of COMMIT and ENQUEUE (see APPLY_AND_QUEUE) for `report` of `key`. */
export function queueArguments(
  prefix: string,
  outbox: OutboxKeys,
  operation: string,
  key: string,
  report: PendingUsage,
): [string[], string[]] {
  assertReport(operation, report);
  const { reports, keys, queue, inFlight, sequence, order } = outbox;
  return [
    [`${prefix}ent:${key}`, `${prefix}pend:${key}`, reports, keys, queue, inFlight, sequence, order],
    [report.id, JSON.stringify(report), String(report.value), report.updateBehavior === 'SET' ? 'SET' : 'DELTA', key],
  ];
}
