import type { IncomingMessage } from 'node:http';
import { BodyAbortedError, BodyTimeoutError, BodyTooLargeError, type WebhookLimits } from './limits';

/**
 * The raw body of a request no body parser has read, at most `maxBodyBytes` (a declared
 * Content-Length over it is refused before a byte is read) within `bodyTimeoutMs`. What is left
 * unread is not buffered: the adapters answer with `Connection: close`.
 */
export function readBody(request: IncomingMessage, limits: WebhookLimits): Promise<Uint8Array> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) return Promise.reject(new BodyTooLargeError(limits.maxBodyBytes));
  if (request.readableEnded) return Promise.resolve(new Uint8Array(0));
  if (request.destroyed) return Promise.reject(new BodyAbortedError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: Error | undefined, body?: Uint8Array) => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      if (error !== undefined) {
        // Read no further: the answer goes out with Connection: close, which ends the rest.
        request.pause();
        chunks.length = 0;
        reject(error);
      } else resolve(body as Uint8Array);
    };
    const timer = setTimeout(() => stop(new BodyTimeoutError(limits.bodyTimeoutMs)), limits.bodyTimeoutMs);
    function onData(chunk: Buffer) {
      size += chunk.length;
      if (size > limits.maxBodyBytes) stop(new BodyTooLargeError(limits.maxBodyBytes));
      else chunks.push(chunk);
    }
    function onEnd() {
      stop(undefined, Buffer.concat(chunks));
    }
    function onError(error: Error) {
      stop(new BodyAbortedError({ cause: error }));
    }
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onError);
  });
}
