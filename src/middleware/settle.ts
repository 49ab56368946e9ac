import type { ServerResponse } from 'node:http';
import type { Lease, Logger } from '../core/types';
import type { ReportWhen } from './options';

/**
 * After the response: commit a granted lease's reservation or release it. Framework-free:
 * `settle` takes what every adapter can tell (did the response finish, with which status);
 * `settleOnResponse` does it for a Node ServerResponse (Express, Koa, Fastify).
 */

/** Commit when the response finished with a status `reportWhen` accepts; release otherwise. Never throws. */
export function settle(lease: Lease, finished: boolean, statusCode: number, reportWhen: ReportWhen, logger: Logger): void {
  try {
    if (finished && reportWhen(statusCode)) lease.commit();
    else lease.release();
  } catch (error) {
    logger.error(
      {
        featureId: lease.decision.featureId,
        error,
      },
      'stigg-gate: settling the usage of a request failed; nothing was reported for it',
    );
    if (finished) safeRelease(lease);
  }
}

/** Releases a lease, logging (never throwing) when the release itself fails. */
export function releaseQuietly(lease: Lease, logger: Logger): void {
  settle(lease, false, 0, reportNothing, logger);
}

function reportNothing(): boolean {
  return false;
}

/**
 * Whether the response can no longer carry a handler's answer: the client disconnected (Node
 * destroys the response) or something already ended it. A 'close' listener added now would never run.
 */
export function isResponseGone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded;
}

/**
 * Settle a granted lease by how the response ends. Node emits 'close' on every response (after
 * 'finish', or alone on a disconnect), so one listener does; a response already closed settles now.
 */
export function settleOnResponse(res: ServerResponse, lease: Lease, reportWhen: ReportWhen, logger: Logger): void {
  if (res.destroyed) {
    settle(lease, res.writableFinished, res.statusCode, reportWhen, logger);
    return;
  }
  res.on('close', function settleLease() {
    settle(lease, res.writableFinished, res.statusCode, reportWhen, logger);
  });
}

function safeRelease(lease: Lease): void {
  try {
    lease.release();
  } catch {
    // The lease is already unusable; the reservation expires with its TTL.
  }
}
