// The settlement rule every adapter follows (src/middleware/settle.ts): a granted lease follows the work, not the
// delivery. The adapters' suites drive it over HTTP; here a Settlement is driven directly, with a lease that records
// what it was told and a Node response of plain fields, so that each branch of the rule is pinned: which of commit,
// release or settle(units) a request's end takes, and that only the first end counts. Each test is named for the
// behaviour it pins and was run against its mutants, applied by hand (issue 25).
import { EventEmitter } from 'node:events';
import type { Decision, Lease, Logger } from '../../src/core';
import {
  Settlement,
  isResponseGone,
  releaseQuietly,
  settleable,
  type NodeResponse,
  type SettlementRules,
} from '../../src/middleware/settle';
import type { OnAbort } from '../../src/middleware/options';
import { reportWhenSuccessful } from '../../src/middleware/options';

type Call = 'commit' | 'release' | 'abandoned' | ['settle', number];

class RecordingLease implements Lease {
  readonly calls: Call[] = [];
  failCommit = false;
  failRelease = false;
  readonly decision: Decision;
  constructor(featureId = 'f') {
    this.decision = { featureId, requestedUsage: 2, granted: true, metered: true } as unknown as Decision;
  }
  commit(): void {
    this.calls.push('commit');
    if (this.failCommit) throw new Error('commit failed');
  }
  release(): void {
    this.calls.push('release');
    if (this.failRelease) throw new Error('release failed');
  }
  settle(units: number): void {
    if (typeof units !== 'number') throw new TypeError('not a count');
    this.calls.push(['settle', units]);
  }
  abandoned(): void {
    this.calls.push('abandoned');
  }
}

class FakeResponse extends EventEmitter implements NodeResponse {
  destroyed = false;
  writableEnded = false;
  headersSent = false;
  statusCode = 200;
  socket: unknown = {};
  req: NodeResponse['req'] = undefined;
  ends = 0;
  end(): unknown {
    this.ends += 1;
    this.writableEnded = true;
    return this;
  }
}

class FakeConnection extends EventEmitter {
  destroyed = false;
}

interface Logged {
  level: 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

function rig(
  options: { reportWhen?: (status: number) => unknown; onAbort?: OnAbort<string>; warned?: Set<string> | null; featureId?: string } = {},
) {
  const logged: Logged[] = [];
  const logger = {
    warn: (fields: Record<string, unknown>, message: string) => logged.push({ level: 'warn', fields, message }),
    error: (fields: Record<string, unknown>, message: string) => logged.push({ level: 'error', fields, message }),
    info: () => undefined,
    debug: () => undefined,
  } as unknown as Logger;
  const rules: SettlementRules<string> = {
    reportWhen: (options.reportWhen ?? reportWhenSuccessful) as (status: number) => boolean,
    onAbort: options.onAbort ?? 'commit',
    logger,
    warned: options.warned === null ? undefined : (options.warned ?? new Set<string>()),
  };
  const lease = new RecordingLease(options.featureId);
  const settlement = new Settlement(lease, rules, 'the request');
  return { lease, settlement, logged, rules };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

describe('the handler answers', () => {
  // Mutants: reports()'s answer (`Boolean(accepted)`, the default rule `< 400`), completed() committing or releasing the other way.
  test.each([
    [200, ['commit'], true],
    [399, ['commit'], true],
    [400, ['release'], false],
    [500, ['release'], false],
  ])('without a Node response, status %i: %j', (status, calls, committed) => {
    const { lease, settlement } = rig();
    settlement.answered(status);
    expect(lease.calls).toEqual(calls);
    expect(settlement.committed).toBe(committed);
  });

  test('reportWhen decides which statuses are reported', () => {
    const { lease, settlement } = rig({ reportWhen: (status) => status === 404 });
    settlement.answered(404);
    expect(lease.calls).toEqual(['commit']);
    const other = rig({ reportWhen: (status) => status === 404 });
    other.settlement.answered(200);
    expect(other.lease.calls).toEqual(['release']);
    expect(other.settlement.committed).toBe(false);
  });

  test('a reportWhen answering a truthy value that is not true reports', () => {
    const { lease, settlement } = rig({ reportWhen: () => 1 });
    settlement.answered(500);
    expect(lease.calls).toEqual(['commit']);
  });

  // Mutants: the thrown or promised answer taken as the answer (a promise is truthy: a failed request charged), the
  // error log dropped or its fields emptied, the rejection unhandled.
  test.each([
    ['throws', () => { throw new Error('policy broke'); }, new Error('policy broke')], // prettier-ignore
    ['answers a promise', () => Promise.resolve(false), expect.any(Promise)],
  ])('a reportWhen that %s is no answer: the status decides (reported below 400), and it is logged', async (_name, reportWhen, error) => {
    const failed = rig({ reportWhen });
    failed.settlement.answered(500);
    expect(failed.lease.calls).toEqual(['release']);
    expect(failed.logged).toMatchObject([
      {
        level: 'error',
        fields: { featureId: 'f', status: 500, error },
        message: expect.stringMatching(/reportWhen failed or answered a promise/),
      },
    ]);
    const ok = rig({ reportWhen });
    ok.settlement.answered(200);
    expect(ok.lease.calls).toEqual(['commit']);
    expect(ok.settlement.committed).toBe(true);
  });

  test("a reportWhen promise's rejection is logged, never unhandled", async () => {
    const { settlement, logged } = rig({ reportWhen: () => Promise.reject(new Error('later')) });
    settlement.answered(200);
    await flush();
    expect(logged.map((entry) => entry.message)).toEqual([
      expect.stringMatching(/reportWhen failed or answered a promise/),
      'stigg-gate: the promise the reportWhen function returned rejected',
    ]);
    expect(logged[1]?.fields).toMatchObject({ featureId: 'f', error: new Error('later') });
  });

  // Mutants: answered() with an open Node response settling at once (a body still streaming charged before its end)
  // or never; closed()'s `writableEnded` and `hasAnswer` branches.
  test('with a Node response still open, the answer waits for its end: ended, the status decides', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    settlement.watch(res);
    settlement.answered(200, res);
    expect(lease.calls).toEqual([]);
    res.statusCode = 503;
    res.end();
    res.emit('close');
    expect(lease.calls).toEqual(['release']);
  });

  test('with a Node response still open, an answer cut off before its end is onAbort (the default commits)', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    settlement.watch(res);
    settlement.answered(200, res);
    res.emit('close'); // not ended, no headers: the answer was set
    expect(lease.calls).toEqual(['commit']);
    expect(settlement.committed).toBe(true);
  });

  test('an answer on a response already destroyed decides at once', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    res.destroyed = true;
    settlement.answered(200, res);
    expect(lease.calls).toEqual(['commit']);
  });

  // Mutant: the first end not final (`state === SETTLED` guards dropped): a second end committed or released again.
  test('only the first end counts', () => {
    const { lease, settlement } = rig();
    settlement.answered(200);
    settlement.answered(500);
    settlement.failed();
    settlement.aborted();
    settlement.settle(5);
    expect(lease.calls).toEqual(['commit']);
  });
});

describe('the handler fails', () => {
  test('before writing: released, nothing reported', () => {
    const { lease, settlement } = rig();
    settlement.failed();
    expect(lease.calls).toEqual(['release']);
    expect(settlement.committed).toBe(false);
  });

  // Mutants: failed()'s `writableEnded === true` and `headersSent === true` branches (dropped, or taken always).
  test('after ending its response itself: its status decides', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    res.writableEnded = true;
    settlement.failed(res);
    expect(lease.calls).toEqual(['commit']);
    const failedStatus = rig();
    res.statusCode = 500;
    failedStatus.settlement.failed(res);
    expect(failedStatus.lease.calls).toEqual(['release']);
  });

  test('after its headers went out, unended: cut off, so onAbort decides', () => {
    const { lease, settlement } = rig({ onAbort: 'release' });
    const res = new FakeResponse();
    res.headersSent = true;
    settlement.failed(res);
    expect(lease.calls).toEqual(['release']);
    const committing = rig();
    committing.settlement.failed(res);
    expect(committing.lease.calls).toEqual(['commit']);
  });

  test('with a response untouched: released', () => {
    const { lease, settlement } = rig();
    settlement.failed(new FakeResponse());
    expect(lease.calls).toEqual(['release']);
    settlement.answered(200);
    expect(lease.calls).toEqual(['release']);
  });
});

describe('settle(units) from the handler', () => {
  // Mutants: settle() not final, `committed = units > 0` → `>=` or true, settle() ignored.
  test('reports those units, whatever happens next', () => {
    const { lease, settlement } = rig();
    settlement.settle(3);
    expect(lease.calls).toEqual([['settle', 3]]);
    expect(settlement.committed).toBe(true);
    settlement.answered(500);
    settlement.settle(4);
    expect(lease.calls).toEqual([['settle', 3]]);
  });

  test('0 units: nothing committed', () => {
    const { lease, settlement } = rig();
    settlement.settle(0);
    expect(lease.calls).toEqual([['settle', 0]]);
    expect(settlement.committed).toBe(false);
  });

  test('a bad count throws, and the request still settles by its end', () => {
    const { lease, settlement } = rig();
    expect(() => settlement.settle(-1)).toThrow(TypeError);
    expect(lease.calls).toEqual([]);
    settlement.answered(200);
    expect(lease.calls).toEqual(['commit']);
  });

  test('before the watched response ended: those units', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    settlement.watch(res);
    settlement.settle(1);
    res.end();
    res.emit('close');
    expect(lease.calls).toEqual([['settle', 1]]);
  });

  // Mutants: the late-settle branch (`res.writableEnded && state === RUNNING`, either operand, `&&` → `||`), the count
  // taken instead of the status, the warning's once-per-feature key and its fields.
  test('after the handler ended its response: the response settles it by its status, the count is ignored, and a warning says so once per feature', () => {
    const warned = new Set<string>();
    const { lease, settlement, logged } = rig({ warned });
    const res = new FakeResponse();
    settlement.watch(res);
    res.end();
    settlement.settle(7);
    expect(lease.calls).toEqual(['commit']);
    expect(logged).toMatchObject([
      {
        level: 'warn',
        fields: { featureId: 'f', actualUnits: 7, reported: 2 },
        message: expect.stringMatching(/^stigg-gate: settle\(7\) for "f" came after the handler ended its response/),
      },
    ]);
    res.emit('close');
    expect(lease.calls).toEqual(['commit']);
    const again = rig({ warned });
    const other = new FakeResponse();
    again.settlement.watch(other);
    other.statusCode = 500;
    other.end();
    again.settlement.settle(7);
    expect(again.lease.calls).toEqual(['release']);
    expect(again.logged).toEqual([]); // once per feature
    const fresh = rig();
    const third = new FakeResponse();
    fresh.settlement.watch(third);
    third.statusCode = 500;
    third.end();
    fresh.settlement.settle(7);
    expect(fresh.logged).toMatchObject([{ fields: { reported: 0 } }]);
  });

  test('the late-settle warning without a warned set is still given', () => {
    const { settlement, logged } = rig({ warned: null });
    const res = new FakeResponse();
    settlement.watch(res);
    res.end();
    settlement.settle(7);
    settlement.settle(7);
    expect(logged).toHaveLength(1);
  });

  test('after the client left while the handler worked (not ended by it): those units', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    settlement.watch(res);
    res.destroyed = true;
    res.emit('close');
    settlement.settle(2);
    expect(lease.calls).toEqual(['abandoned', ['settle', 2]]);
  });
});

describe('the response closes', () => {
  test('ended by the handler: its status decides', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    settlement.watch(res);
    res.statusCode = 201;
    res.end();
    res.emit('close');
    expect(lease.calls).toEqual(['commit']);
  });

  // Mutants: closed()'s `hasAnswer || headersSent` (either dropped, `&&`), aborted()'s policies swapped.
  test.each([
    ['commit', ['commit'], true],
    ['release', ['release'], false],
  ] as const)('cut off after its headers went out: onAbort %s', (onAbort, calls, committed) => {
    const { lease, settlement, logged } = rig({ onAbort });
    const res = new FakeResponse();
    settlement.watch(res);
    res.headersSent = true;
    res.emit('close');
    expect(lease.calls).toEqual(calls);
    expect(settlement.committed).toBe(committed);
    expect(logged).toEqual([]); // a policy named, not a function that failed
  });

  test('onAbort as a function: its count, told the decision, the time since and the request', () => {
    const seen: unknown[] = [];
    const { lease, settlement } = rig({
      onAbort: (progress, req) => {
        seen.push(progress.decision.featureId, progress.elapsedMs, req);
        return 1;
      },
    });
    const res = new FakeResponse();
    settlement.watch(res);
    res.headersSent = true;
    res.emit('close');
    expect(lease.calls).toEqual([['settle', 1]]);
    expect(settlement.committed).toBe(true);
    expect(seen[0]).toBe('f');
    expect(seen[1]).toBeGreaterThanOrEqual(0);
    expect(seen[1]).toBeLessThan(5_000);
    expect(seen[2]).toBe('the request');
    const none = rig({ onAbort: () => 0 });
    none.settlement.aborted();
    expect(none.lease.calls).toEqual([['settle', 0]]);
    expect(none.settlement.committed).toBe(false);
  });

  // Mutants: the catch's commit dropped or made a release (a hang-up bought for free), its log.
  test('an onAbort function that throws or answers a promise: the reservation is reported, and it is logged', async () => {
    const throwing = rig({
      onAbort: () => {
        throw new Error('policy broke');
      },
    });
    throwing.settlement.aborted();
    expect(throwing.lease.calls).toEqual(['commit']);
    expect(throwing.settlement.committed).toBe(true);
    expect(throwing.logged).toMatchObject([
      {
        level: 'error',
        fields: { featureId: 'f' },
        message: expect.stringMatching(/onAbort function failed or returned no valid unit count/),
      },
    ]);
    const promising = rig({ onAbort: (() => Promise.reject(new Error('later'))) as unknown as OnAbort<string> });
    promising.settlement.aborted();
    await flush();
    expect(promising.lease.calls).toEqual(['commit']);
    expect(promising.logged.map((entry) => entry.message)).toEqual([
      expect.stringMatching(/onAbort function failed/),
      'stigg-gate: the promise the onAbort function returned rejected',
    ]);
  });

  // Mutants: awaitHandler() not marking the lease abandoned, not watching end() or 'pipe', end() not put back, the
  // response's end not called with its arguments.
  test('gone while the handler works: the lease is abandoned, and the handler’s later end decides by its status', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    const originalEnd = res.end;
    settlement.watch(res);
    res.destroyed = true;
    res.emit('close');
    expect(lease.calls).toEqual(['abandoned']);
    res.statusCode = 200;
    expect(res.end()).toBe(res);
    expect(res.ends).toBe(1);
    expect(lease.calls).toEqual(['abandoned', 'commit']);
    expect(res.end).toBe(originalEnd);
  });

  test('gone while the handler works, which then fails: released', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    settlement.watch(res);
    res.emit('close');
    settlement.failed();
    expect(lease.calls).toEqual(['abandoned', 'release']);
  });

  test('gone while the handler works, which then answers (Koa, Nest): its status decides', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    settlement.watch(res);
    res.emit('close');
    settlement.answered(500, res);
    expect(lease.calls).toEqual(['abandoned', 'release']);
  });

  test('gone while the handler works, which then pipes a stream into it: cut off, onAbort decides', () => {
    const { lease, settlement } = rig({ onAbort: 'release' });
    const res = new FakeResponse();
    settlement.watch(res);
    res.emit('close');
    res.emit('pipe');
    expect(lease.calls).toEqual(['abandoned', 'release']);
  });

  test('watching a response already destroyed settles at once by what it carries', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    res.destroyed = true;
    res.writableEnded = true;
    settlement.watch(res);
    expect(lease.calls).toEqual(['commit']);
    const unanswered = rig();
    const gone = new FakeResponse();
    gone.destroyed = true;
    unanswered.settlement.watch(gone);
    expect(unanswered.lease.calls).toEqual(['abandoned']);
  });

  // Mutants: queuedOn() (`socket !== null` → true/false, the request's socket null taken as a connection), the
  // connection's close not watched, its listener not removed.
  test('a response queued behind an earlier one (pipelining) settles when its connection dies, and leaves no listener on it once it closes', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    const connection = new FakeConnection();
    res.socket = null;
    res.req = { socket: connection };
    settlement.watch(res);
    expect(connection.listenerCount('close')).toBe(1);
    connection.destroyed = true;
    connection.emit('close');
    expect(lease.calls).toEqual(['abandoned']);
    const other = rig();
    const next = new FakeResponse();
    const alive = new FakeConnection();
    next.socket = null;
    next.req = { socket: alive };
    other.settlement.watch(next);
    next.end();
    next.emit('close');
    expect(other.lease.calls).toEqual(['commit']);
    expect(alive.listenerCount('close')).toBe(0);
  });

  test('a queued response whose connection is already gone settles at once', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    const connection = new FakeConnection();
    connection.destroyed = true;
    res.socket = null;
    res.req = { socket: connection };
    settlement.watch(res);
    expect(lease.calls).toEqual(['abandoned']);
  });

  test('a response with no connection (its request socket null) watches its own close', () => {
    const { lease, settlement } = rig();
    const res = new FakeResponse();
    res.socket = null;
    res.req = { socket: null };
    settlement.watch(res);
    expect(lease.calls).toEqual([]);
    res.end();
    res.emit('close');
    expect(lease.calls).toEqual(['commit']);
  });
});

describe('a lease that fails to settle', () => {
  // Mutants: run()'s catch emptied or not releasing, its log; safeRelease throwing.
  test('a commit that throws is logged and the lease released; a release that throws too is swallowed', () => {
    const { lease, settlement, logged } = rig();
    lease.failCommit = true;
    expect(() => settlement.answered(200)).not.toThrow();
    expect(lease.calls).toEqual(['commit', 'release']);
    expect(logged).toMatchObject([
      {
        level: 'error',
        fields: { featureId: 'f' },
        message: 'stigg-gate: settling the usage of a request failed; nothing was reported for it',
      },
    ]);
    const both = rig();
    both.lease.failCommit = true;
    both.lease.failRelease = true;
    expect(() => both.settlement.answered(200)).not.toThrow();
    expect(both.lease.calls).toEqual(['commit', 'release']);
  });

  test('releaseQuietly logs a release that throws and never throws', () => {
    const { lease, logged, rules } = rig();
    releaseQuietly(lease, rules.logger);
    expect(lease.calls).toEqual(['release']);
    expect(logged).toEqual([]);
    lease.failRelease = true;
    expect(() => releaseQuietly(lease, rules.logger)).not.toThrow();
    expect(logged).toMatchObject([
      { level: 'error', fields: { featureId: 'f' }, message: expect.stringMatching(/settling the usage of a request failed/) },
    ]);
  });
});

test('isResponseGone: destroyed, ended, or queued on a dead connection', () => {
  const res = new FakeResponse();
  expect(isResponseGone(res)).toBe(false);
  res.destroyed = true;
  expect(isResponseGone(res)).toBe(true);
  const ended = new FakeResponse();
  ended.writableEnded = true;
  expect(isResponseGone(ended)).toBe(true);
  const queued = new FakeResponse();
  const connection = new FakeConnection();
  queued.socket = null;
  queued.req = { socket: connection };
  expect(isResponseGone(queued)).toBe(false);
  connection.destroyed = true;
  expect(isResponseGone(queued)).toBe(true);
});

test("settleable(): the lease's decision, whose settle() reaches the settlement", () => {
  const { lease, settlement } = rig();
  const decision = settleable(settlement) as Decision & { settle(units: number): void };
  expect(decision.featureId).toBe('f');
  decision.settle(2);
  expect(lease.calls).toEqual([['settle', 2]]);
});

// Mutants: the late-settle warning's key emptied (one warning per process, not per feature), closed() and completed()
// not final once settled, the optional abandoned() called as if every lease had it, the request's socket read when the
// response has none.
test('the late-settle warning is given once per feature, not once per process', () => {
  const warned = new Set<string>();
  for (const featureId of ['f', 'g', 'f']) {
    const { settlement } = rig({ warned, featureId });
    const res = new FakeResponse();
    settlement.watch(res);
    res.end();
    settlement.settle(1);
  }
  expect([...warned]).toEqual(['f\0late-settle', 'g\0late-settle']);
});

test('once settled, the response closing or the handler ending it later changes nothing', () => {
  const { lease, settlement } = rig();
  const res = new FakeResponse();
  settlement.watch(res);
  settlement.settle(3);
  res.emit('close'); // the client left afterwards, nothing ended
  expect(lease.calls).toEqual([['settle', 3]]);
  const gone = rig();
  const abandoned = new FakeResponse();
  gone.settlement.watch(abandoned);
  abandoned.emit('close'); // gone while the handler works
  gone.settlement.failed(); // it fails: released
  abandoned.end(); // and still ends the response
  expect(gone.lease.calls).toEqual(['abandoned', 'release']);
});

test('a lease without abandoned() (optional in Lease) is left to its end when the client leaves', () => {
  const lease = new RecordingLease();
  const bare: Lease = {
    decision: lease.decision,
    commit: () => lease.commit(),
    release: () => lease.release(),
    settle: (n) => lease.settle(n),
  };
  const settlement = new Settlement(bare, rig().rules, 'the request');
  const res = new FakeResponse();
  settlement.watch(res);
  expect(() => res.emit('close')).not.toThrow();
  res.end();
  expect(lease.calls).toEqual(['commit']);
});

test('a response queued with no request attached watches its own close', () => {
  const { lease, settlement } = rig();
  const res = new FakeResponse();
  res.socket = null;
  res.req = undefined;
  expect(() => settlement.watch(res)).not.toThrow();
  res.end();
  res.emit('close');
  expect(lease.calls).toEqual(['commit']);
});
