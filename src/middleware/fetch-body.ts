import type { Settlement } from './settle';

/**
 * Chunks read ahead of the runtime: 2, so that a body already complete when the handler returned
 * (c.json(), a string) is read to its end, and its settlement made, without anyone reading it; a body
 * still being written (a stream) is held to two chunks ahead of its reader.
 */
const READ_AHEAD: QueuingStrategy<Uint8Array> = { highWaterMark: 2 };

/**
 * A Fetch Response whose body settles `settlement` by how it ends: read to its end, the answer is
 * complete (its status decides); cancelled by the runtime (the client left) or broken (the stream
 * failed), the route's onAbort decides. Until then the route may still settle(units) itself, from
 * inside its stream (the final usage frame of a streamed completion). `settled` runs once it is settled.
 */
export function watchBody<Req>(response: Response, settlement: Settlement<Req>, settled?: () => void): Response {
  const source = response.body;
  const status = response.status;
  if (source === null) {
    settlement.answered(status);
    settled?.();
    return response;
  }
  const reader: ReadableStreamDefaultReader<Uint8Array> = (source as ReadableStream<Uint8Array>).getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          settlement.aborted();
          settled?.();
          controller.error(error);
          return;
        }
        if (chunk.done) {
          settlement.answered(status);
          settled?.();
          controller.close();
          return;
        }
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        settlement.aborted();
        settled?.();
        return reader.cancel(reason);
      },
    },
    READ_AHEAD,
  );
  return new Response(body, { status, statusText: response.statusText, headers: response.headers });
}
