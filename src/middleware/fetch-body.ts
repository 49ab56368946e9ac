import type { Settlement } from './settle';

/**
 * Chunks read ahead of the runtime: 2, so that a body already complete when the handler returned
 * (c.json(), a string) is read to its end, and its settlement made, without anyone reading it; a body
 * still being written (a stream) is held to two chunks ahead of its reader.
 */
const READ_AHEAD = 2;

/**
 * Where the runtime may stop reading a body without a word (Workers, measured in workerd: a client
 * that disconnected while the handler worked cancels the request, and the Response the handler
 * returns later is never sent; a client gone while its body is written leaves the runtime's write
 * failing, and the body is dropped, neither read to its end nor cancelled), how long the runtime may
 * leave the body unread before it is read out here. Workers give a request that ended 30 s of
 * waitUntil: the grace plus the drain stay well inside it.
 */
export const UNREAD_GRACE_MS = 5_000;

/** How long a body nobody reads is read out (into the queue, for a client that still comes back) before onAbort decides. */
export const UNREAD_DRAIN_MS = 20_000;

/** The runtime may leave the body unread: after `graceMs` without a read (0: the client is known gone). */
export interface UnreadWatch {
  graceMs: number;
}

type End = (how: 'answered' | 'aborted' | 'failed') => void;

/**
 * A Fetch Response whose body settles `settlement` by how it ends: read to its end, the answer is
 * complete (its status decides); cancelled by the runtime (the client left) or broken (the stream
 * failed), the route's onAbort decides. Until then the route may still settle(units) itself, from
 * inside its stream (the final usage frame of a streamed completion). `settled` runs once it is settled.
 *
 * `started`, where the host can tell, says whether the runtime sent the response's head: a body that
 * breaks before then failed (the runtime answers 500 instead), and is released.
 *
 * With `unread`, a body the runtime leaves unread for `graceMs` is read out here, its chunks queued
 * for a reader that may still come: to its end, the handler completed its answer (its status decides,
 * as for a client that never reads on Node); broken, or not ended within UNREAD_DRAIN_MS, the onAbort
 * policy. Never left unsettled, for its reservation to lapse.
 */
export function watchBody<Req>(
  response: Response,
  settlement: Settlement<Req>,
  settled?: () => void,
  unread?: UnreadWatch,
  started?: () => boolean | undefined,
): Response {
  const source = response.body;
  const status = response.status;
  if (source === null) {
    settlement.answered(status);
    settled?.();
    return response;
  }
  const reader: ReadableStreamDefaultReader<Uint8Array> = (source as ReadableStream<Uint8Array>).getReader();
  let done = false;
  /** Reading out a body nobody reads (drainUnread): pulls leave the source to it. */
  const drain = { active: false };
  let enqueued = 0;
  let lastRead = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const end: End = (how) => {
    if (done) return;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    if (how === 'answered') settlement.answered(status);
    else if (how === 'failed') settlement.failed();
    else settlement.aborted();
    settled?.();
  };
  let queue!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        queue = controller;
      },
      async pull(controller) {
        // A pull past the read-ahead: the runtime took a chunk.
        if (enqueued >= READ_AHEAD) lastRead = Date.now();
        if (drain.active) return;
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          // Broken before the runtime sent the head (a host that can tell: `started`), the answer is
          // the runtime's 500, a failed answer; after it, a response cut off.
          end(started?.() === false ? 'failed' : 'aborted');
          controller.error(error);
          return;
        }
        if (chunk.done) {
          end('answered');
          controller.close();
          return;
        }
        enqueued += 1;
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        end('aborted');
        return reader.cancel(reason);
      },
    },
    { highWaterMark: READ_AHEAD },
  );
  if (unread !== undefined) {
    const check = (): void => {
      timer = undefined;
      if (done) return;
      const idle = Date.now() - lastRead;
      if (idle < unread.graceMs) {
        timer = setTimeout(check, unread.graceMs - idle);
        return;
      }
      drain.active = true;
      drainUnread(reader, queue, end, drain);
    };
    timer = setTimeout(check, unread.graceMs);
  }
  return new Response(body, { status, statusText: response.statusText, headers: response.headers });
}

/**
 * Reads out a body nobody reads into `queue`: its end settles it as answered; a break, or no end in
 * time, as aborted (then the pulls take the source back: a stream without end is not buffered forever).
 */
function drainUnread(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  queue: ReadableStreamDefaultController<Uint8Array>,
  end: End,
  drain: { active: boolean },
): void {
  const limit = setTimeout(() => {
    end('aborted');
    drain.active = false;
  }, UNREAD_DRAIN_MS);
  const finish = (how: 'answered' | 'aborted'): void => {
    clearTimeout(limit);
    end(how);
  };
  const next = (): Promise<void> =>
    reader.read().then(
      (chunk) => {
        if (chunk.done) {
          finish('answered');
          tryQueue(() => queue.close());
          return undefined;
        }
        tryQueue(() => queue.enqueue(chunk.value));
        return drain.active ? next() : undefined;
      },
      (error: unknown) => {
        finish('aborted');
        tryQueue(() => queue.error(error));
      },
    );
  void next();
}

/** The queue may already be closed or errored (the runtime cancelled it): nothing to hand it then. */
function tryQueue(action: () => void): void {
  try {
    action();
  } catch {
    // cancelled by its reader
  }
}
