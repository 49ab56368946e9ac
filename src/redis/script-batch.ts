import { soon } from '../util/timers';
import type { RunScript } from './outbox-calls';
import type { Script } from './scripts';

interface Call {
  keys: string[];
  args: Array<string | number>;
  resolve(reply: unknown[]): void;
  reject(error: unknown): void;
}

/** Entries per script call at most: a long batch would hold Redis (single-threaded) for the others. */
const MAX_ENTRIES = 128;

/**
 * Calls of one script made in the same turn of the event loop, sent as one call over all of them:
 * the script loops over its entries (SET_ENTITLEMENT, USAGE_MARK), so a delivery that reconciles the
 * 50 keys of its batch costs Redis one script and one round trip, not 50. Each caller gets its own
 * `replyPer` values of the reply, or the call's error. A call waits at most one turn of the loop.
 */
export class ScriptBatch {
  private calls: Call[] = [];

  constructor(
    private readonly run: RunScript,
    private readonly operation: string,
    private readonly script: Script,
    private readonly replyPer: number,
  ) {}

  call(keys: string[], args: Array<string | number>): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      if (this.calls.length === 0) soon(this.flush);
      this.calls.push({ keys, args, resolve, reject });
      if (this.calls.length >= MAX_ENTRIES) this.flush();
    });
  }

  /** Sends the calls queued so far now (RedisStore: before any later command, which must not overtake them). */
  readonly flush = (): void => {
    const calls = this.calls;
    if (calls.length === 0) return;
    this.calls = [];
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const call of calls) {
      for (const key of call.keys) keys.push(key);
      for (const arg of call.args) args.push(arg);
    }
    const { replyPer } = this;
    this.run(this.operation, this.script, keys, args).then(
      (reply) => {
        const values = reply as unknown[];
        calls.forEach((call, i) => call.resolve(values.slice(i * replyPer, (i + 1) * replyPer)));
      },
      (error: unknown) => {
        for (const call of calls) call.reject(error);
      },
    );
  };
}
