import type { Decision, Lease, Logger } from '../core';
import { checkActualUnits } from '../core/internal';
import { isThenable } from '../util/maybe-promise';
import { reportWhenSuccessful, type OnAbort, type ReportWhen } from './options';
import { settleableDecision } from './settleable';

/*
 * The settlement rule, the same for every adapter (Express, Koa, Fastify, Hono, Nest): a granted
 * lease follows the WORK, not the delivery.
 *   - The handler completed its answer (ended the response, set the body, returned the Response, its
 *     observable completed): commit when reportWhen accepts the status (default < 400), else release.
 *     Whether the client read it does not matter: the work was done.
 *   - The handler failed (threw, rejected): release.
 *   - The response had started and was cut off before the handler ended it (the client left
 *     mid-stream, or the stream broke): the route's onAbort policy (default 'commit': the work was
 *     done, a hang-up must not buy it for free).
 *   - The handler settled it itself (decision.settle(units)) before it ended the response: those
 *     units, whatever happens next. A settle() once the handler had ended the Node response comes too
 *     late: the completed answer was settled (by its status), and a warning says so. Program order
 *     decides, not the client: Node learns of the end at 'close', which a slow reader delays.
 * A client gone before the decision never reaches here: the adapter releases and the handler never runs.
 * Only the first of these takes effect. Nothing here throws into the adapter.
 */

/**
 * What the rule reads of Node's http.ServerResponse, declared here rather than imported from node:http
 * so that the declarations of the Fetch hosts (stigg-gate/hono on Workers) need no @types/node.
 */
export interface NodeResponse {
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly headersSent: boolean;
  readonly statusCode: number;
  /** null while the response is queued behind an earlier one of its connection (keep-alive pipelining). */
  readonly socket?: unknown;
  /** The request, whose connection a queued response watches (http.ServerResponse.req). */
  readonly req?: { readonly socket?: Connection | null } | undefined;
  once(event: 'close' | 'pipe', listener: () => void): unknown;
  end(...args: never[]): unknown;
}

/** The parts of a net.Socket a queued response watches. */
interface Connection {
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

/**
 * The connection of a response queued behind an earlier one (pipelined requests): Node never emits
 * 'close' (nor 'finish') on such a response when the connection dies, so the connection is watched.
 * undefined for a response that has its connection (its own 'close' is emitted).
 */
function queuedOn(res: NodeResponse): Connection | undefined {
  if (res.socket !== null) return undefined;
  const socket = res.req?.socket;
  return socket === null ? undefined : socket;
}

type End = (this: NodeResponse, ...args: unknown[]) => unknown;

/** The parts of a route's configuration the rule reads. */
export interface SettlementRules<Req> {
  readonly reportWhen: ReportWhen;
  readonly onAbort: OnAbort<Req>;
  readonly logger: Logger;
  /** Warnings given once (a StiggConfig's), by key. */
  readonly warned?: Set<string> | undefined;
}

const RUNNING = 0;
/** The response closed before the handler answered: its answer (or failure) still decides. */
const AWAITING_HANDLER = 1;
const SETTLED = 2;

export class Settlement<Req> {
  private state = RUNNING;
  /** The handler set its answer while the response is still being written (Koa's body, Nest's result). */
  private hasAnswer = false;
  /** Units were reported (an accepted answer, or settle()): Fetch hosts deliver them before the isolate ends. */
  committed = false;
  private readonly startedAt = Date.now();
  /** The Node response watched (watch()): a settle() after the handler ended it is late. */
  private res: NodeResponse | undefined;

  constructor(
    readonly lease: Lease,
    private readonly rules: SettlementRules<Req>,
    private readonly req: Req,
  ) {}

  /** The route reports the units its work actually used (decision.settle). Throws on a bad count. */
  settle(actualUnits: number): void {
    checkActualUnits(actualUnits);
    if (this.state === SETTLED) return;
    const { res } = this;
    if (res !== undefined && res.writableEnded && this.state === RUNNING) {
      this.completed(res.statusCode);
      this.lateSettle(actualUnits);
      return;
    }
    this.state = SETTLED;
    this.lease.settle(actualUnits);
    this.committed = actualUnits > 0;
  }

  /**
   * The handler threw or rejected. Where it had written to the Node response `res` itself (server-sent
   * events) before it threw, what it sent decides: complete (its status), or cut short (onAbort).
   */
  failed(res?: NodeResponse): void {
    if (this.state === SETTLED) return;
    if (res?.writableEnded === true) {
      this.completed(res.statusCode);
      return;
    }
    if (res?.headersSent === true) {
      this.aborted();
      return;
    }
    this.state = SETTLED;
    this.run(() => this.lease.release());
  }

  /**
   * The handler completed its answer with `status`. Where a Node response `res` is still open, its end
   * decides (a body may still be streaming); otherwise the answer decides now.
   */
  answered(status: number, res?: NodeResponse): void {
    if (this.state === SETTLED) return;
    if (res !== undefined && this.state === RUNNING && !res.destroyed) {
      this.hasAnswer = true;
      return;
    }
    this.completed(status);
  }

  /** Settles by how the Node response ends. Node emits 'close' on every response, so one listener does. */
  watch(res: NodeResponse): void {
    this.res = res;
    if (res.destroyed) {
      this.closed(res);
      return;
    }
    const connection = queuedOn(res);
    if (connection === undefined) {
      res.once('close', () => this.closed(res));
      return;
    }
    if (connection.destroyed) {
      this.closed(res);
      return;
    }
    const connectionClosed = (): void => this.closed(res);
    connection.once('close', connectionClosed);
    res.once('close', () => {
      connection.removeListener('close', connectionClosed);
      this.closed(res);
    });
  }

  private lateSettle(actualUnits: number): void {
    const { featureId } = this.lease.decision;
    const key = `${featureId}\0late-settle`;
    if (this.rules.warned?.has(key) === true) return;
    this.rules.warned?.add(key);
    this.rules.logger.warn(
      { featureId, actualUnits, reported: this.committed ? this.lease.decision.requestedUsage : 0 },
      `stigg-gate: settle(${String(actualUnits)}) for "${featureId}" came after the handler ended its response; the response settled it (the reservation when its status was accepted) and the count was ignored. Call settle() before res.end()/res.json()/reply.send(). Logged once per feature.`,
    );
  }

  private closed(res: NodeResponse): void {
    if (this.state !== RUNNING) return;
    if (res.writableEnded) this.completed(res.statusCode);
    else if (this.hasAnswer || res.headersSent) this.aborted();
    else this.awaitHandler(res);
  }

  /**
   * The client left while the handler was still at work: it still answers (or fails) on a response
   * nobody reads. Express, Fastify and Nest answer through res.end(), so that call is watched, on this
   * abandoned response only; Koa and Nest also say so through answered()/failed().
   */
  private awaitHandler(res: NodeResponse): void {
    this.state = AWAITING_HANDLER;
    // A handler that gives up with its client and answers nobody must not hold the units until reservationMaxMs.
    this.lease.abandoned?.();
    // A stream piped into the gone response (stream.pipeline, res.sendFile) never reaches res.end():
    // the answer started and cannot finish, so it is a response cut off (onAbort), never left unsettled.
    res.once('pipe', () => this.aborted());
    // The end in place now (the prototype's, or another middleware's own wrapper) is put back first.
    const end = Reflect.get(res, 'end') as End;
    const completed = (): void => this.completed(res.statusCode);
    const endAndSettle: End = function endAndSettle(this: NodeResponse, ...args: unknown[]) {
      Reflect.set(res, 'end', end);
      completed();
      return end.apply(this, args);
    };
    Reflect.set(res, 'end', endAndSettle);
  }

  private completed(status: number): void {
    if (this.state === SETTLED) return;
    this.state = SETTLED;
    this.run(() => {
      if (!this.reports(status)) {
        this.lease.release();
        return;
      }
      this.lease.commit();
      this.committed = true;
    });
  }

  /**
   * Whether the route's reportWhen accepts `status`. One that throws, or answers a promise (truthy
   * whatever it resolves to), is no answer: the default rule decides (status < 400), so a failing
   * policy neither gives a completed answer's work away nor charges a failed one.
   */
  private reports(status: number): boolean {
    let accepted: unknown;
    try {
      accepted = this.rules.reportWhen(status);
      if (!isThenable(accepted)) return Boolean(accepted);
      this.logRejection(accepted, 'reportWhen');
    } catch (error) {
      accepted = error;
    }
    this.rules.logger.error(
      { featureId: this.lease.decision.featureId, status, error: accepted },
      'stigg-gate: reportWhen failed or answered a promise; the usage was decided by the status (reported below 400)',
    );
    return reportWhenSuccessful(status);
  }

  /** The response started and was cut off before the handler ended it: the onAbort policy. */
  aborted(): void {
    if (this.state === SETTLED) return;
    this.state = SETTLED;
    const { onAbort } = this.rules;
    if (onAbort === 'release') this.run(() => this.lease.release());
    else if (onAbort === 'commit') {
      this.run(() => {
        this.lease.commit();
        this.committed = true;
      });
    } else {
      this.run(() => {
        let units: number;
        try {
          units = onAbort({ decision: this.lease.decision, elapsedMs: Date.now() - this.startedAt }, this.req);
          // An async function is no count (the reservation is reported below); its rejection must not
          // go unhandled, which ends a Node process.
          if (isThenable(units)) this.logRejection(units, 'onAbort');
          this.lease.settle(units);
          this.committed = units > 0;
        } catch (error) {
          // The policy's promise is "no free work": its failure commits the reservation.
          this.rules.logger.error(
            { featureId: this.lease.decision.featureId, error },
            'stigg-gate: the onAbort function failed or returned no valid unit count; the reservation was reported',
          );
          this.lease.commit();
          this.committed = true;
        }
      });
    }
  }

  /** A promise an app's function answered where a value was due: its rejection must not go unhandled (it ends a Node process). */
  private logRejection(promise: PromiseLike<unknown>, option: 'onAbort' | 'reportWhen'): void {
    const { logger } = this.rules;
    const featureId = this.lease.decision.featureId;
    promise.then(undefined, (error: unknown) => {
      logger.error({ featureId, error }, `stigg-gate: the promise the ${option} function returned rejected`);
    });
  }

  private run(settle: () => void): void {
    try {
      settle();
    } catch (error) {
      this.rules.logger.error(
        { featureId: this.lease.decision.featureId, error },
        'stigg-gate: settling the usage of a request failed; nothing was reported for it',
      );
      safeRelease(this.lease);
    }
  }
}

/** The decision a route's handler sees, with settle(units) bound to its settlement (./settleable). */
export function settleable<Req>(settlement: Settlement<Req>): Decision {
  return settleableDecision(settlement.lease.decision, settlement);
}

/** Releases a lease, logging (never throwing) when the release itself fails. */
export function releaseQuietly(lease: Lease, logger: Logger): void {
  try {
    lease.release();
  } catch (error) {
    logger.error(
      { featureId: lease.decision.featureId, error },
      'stigg-gate: settling the usage of a request failed; nothing was reported for it',
    );
  }
}

/**
 * Whether the response can no longer carry a handler's answer: the client disconnected (Node
 * destroys the response) or something already ended it. A 'close' listener added now would never run.
 */
export function isResponseGone(res: NodeResponse): boolean {
  return res.destroyed || res.writableEnded || queuedOn(res)?.destroyed === true;
}

function safeRelease(lease: Lease): void {
  try {
    lease.release();
  } catch {
    // The lease is already unusable; the reservation expires with its TTL.
  }
}
