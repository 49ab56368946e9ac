import { StiggGateError } from '../core';

/** A RedisStore operation failed, timed out, or was called after close(). */
export class RedisStoreError extends StiggGateError {
  override readonly name: string = 'RedisStoreError';
  readonly errorCode: string = 'ERR_STIGG_GATE_REDIS';
  /** The Store method that failed, e.g. 'reserve'. */
  readonly operation: string;
  readonly timedOut: boolean;

  constructor(operation: string, message: string, options?: { cause?: unknown; timedOut?: boolean }) {
    super(`RedisStore.${operation}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.operation = operation;
    this.timedOut = options?.timedOut ?? false;
  }
}
