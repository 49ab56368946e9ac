import type { IncomingMessage } from 'node:http';

/** Stigg's events are small; a larger body is refused rather than buffered. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** The raw body of a request no body parser has read. */
export function readBody(request: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', function onData(chunk: Buffer) {
      size += chunk.length;
      if (size > MAX_WEBHOOK_BODY_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLargeError(`the body exceeds ${MAX_WEBHOOK_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}
