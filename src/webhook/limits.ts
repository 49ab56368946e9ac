import { StiggGateError } from '../core';

/** Stigg's events are a few KB; a larger body is refused rather than buffered. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** How long a webhook's body may take to arrive once its headers carried the secret. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

export interface WebhookLimits {
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
}

export class BodyTooLargeError extends StiggGateError {
  override readonly name = 'BodyTooLargeError';
  readonly errorCode: string = 'ERR_STIGG_GATE_WEBHOOK_BODY_TOO_LARGE';
  constructor(readonly maxBodyBytes: number) {
    super(`the body exceeds ${maxBodyBytes} bytes (maxBodyBytes)`);
  }
}

export class BodyTimeoutError extends StiggGateError {
  override readonly name = 'BodyTimeoutError';
  readonly errorCode: string = 'ERR_STIGG_GATE_WEBHOOK_BODY_TIMEOUT';
  constructor(readonly bodyTimeoutMs: number) {
    super(`the body did not arrive within ${bodyTimeoutMs} ms (bodyTimeoutMs)`);
  }
}

/** The sender hung up (or the stream broke) before the whole body arrived: answered 400 to nobody, never the app's error. */
export class BodyAbortedError extends StiggGateError {
  override readonly name = 'BodyAbortedError';
  readonly errorCode: string = 'ERR_STIGG_GATE_WEBHOOK_BODY_ABORTED';
  constructor(options?: { cause?: unknown }) {
    super('the body ended before it was complete (the sender hung up)', options);
  }
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(
      `handleStiggWebhook(): ${typeof value === 'number' ? String(value) : typeof value} is not a valid value for ${name}. Please choose a number > 0 (default ${fallback}).`,
    );
  }
  return value;
}

/** The options' limits, defaults applied; throws a TypeError naming the option on a bad value. */
export function webhookLimits(options: { maxBodyBytes?: number; bodyTimeoutMs?: number }): WebhookLimits {
  return {
    maxBodyBytes: positive(options.maxBodyBytes, 'maxBodyBytes', DEFAULT_MAX_BODY_BYTES),
    bodyTimeoutMs: positive(options.bodyTimeoutMs, 'bodyTimeoutMs', DEFAULT_BODY_TIMEOUT_MS),
  };
}

/** A Fetch API request's body as text, within the limits; the stream is cancelled past them. */
export async function readFetchBody(request: Request, limits: WebhookLimits): Promise<string> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) throw new BodyTooLargeError(limits.maxBodyBytes);
  if (request.body === null) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new BodyTimeoutError(limits.bodyTimeoutMs)), limits.bodyTimeoutMs);
  });
  try {
    for (;;) {
      const read: Awaited<ReturnType<typeof reader.read>> = await Promise.race([reader.read(), timeout]);
      if (read.done) break;
      const value = read.value;
      size += value.byteLength;
      if (size > limits.maxBodyBytes) throw new BodyTooLargeError(limits.maxBodyBytes);
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => undefined);
    throw error instanceof BodyTooLargeError || error instanceof BodyTimeoutError ? error : new BodyAbortedError({ cause: error });
  } finally {
    clearTimeout(timer);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(body);
}
