import type { Settlement } from '../settle';

/**
 * A Fetch Response whose body settles `settlement` by how it ends: read to its end, the answer is
 * complete (its status decides); cancelled by the runtime (the client left) or broken (the stream
 * failed), the route's onAbort decides. Only used when onAbort is not 'commit': with 'commit' both
 * ends settle alike and the Response is left as the handler returned it.
 */
export function watchBody<Req>(response: Response, settlement: Settlement<Req>): Response {
  const source = response.body;
  if (source === null) {
    settlement.answered(response.status);
    return response;
  }
  const reader: ReadableStreamDefaultReader<Uint8Array> = (source as ReadableStream<Uint8Array>).getReader();
  const status = response.status;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        settlement.aborted();
        controller.error(error);
        return;
      }
      if (chunk.done) {
        settlement.answered(status);
        controller.close();
        return;
      }
      controller.enqueue(chunk.value);
    },
    cancel(reason) {
      settlement.aborted();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status, statusText: response.statusText, headers: response.headers });
}
