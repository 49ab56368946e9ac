// When a commit takes the usage past its limit (src/core/overrun.ts): 'usage:overrun' and a warning, judged by the
// store's usage once the commit is in, and a settle within the limit while others hold units watched until they
// commit. The engine's suites reach it through HTTP and real time; here the Overruns are driven directly, with a
// runtime of plain functions and a fake clock. Each test is named for the behaviour it pins and was run against its
// mutants, applied by hand (issue 25).
import { Overruns, type OverrunCause } from '../../src/core/overrun';
import type { Runtime } from '../../src/core/runtime';
import type { Decision, UsageOverrun } from '../../src/core/types';

interface Rig {
  overruns: Overruns;
  /** The key's usage in the cache (undefined: evicted), and the units other requests hold. */
  usage: number | undefined;
  held: number;
  asynchronous: boolean;
  /** Only the store's count of units held answers asynchronously (a cache read in memory, the store remote). */
  heldAsynchronous: boolean;
  now: number;
  signalled: UsageOverrun[];
  warnings: Array<[Record<string, unknown>, string]>;
  errors: Error[];
  background: Array<Promise<unknown>>;
}

function rig(options: { reservedUsage?: boolean } = {}): Rig {
  const state = {
    usage: undefined,
    held: 0,
    asynchronous: false,
    heldAsynchronous: false,
    now: 1_000_000,
    signalled: [],
    warnings: [],
    errors: [],
    background: [],
  } as unknown as Rig;
  const answer = <T>(value: T): T | Promise<T> => (state.asynchronous ? Promise.resolve(value) : value);
  const runtime = {
    now: () => state.now,
    config: {
      reservationMaxMs: 60_000,
      reservationTtlMs: 30_000,
      logger: { warn: (fields: Record<string, unknown>, message: string) => state.warnings.push([fields, message]) },
    },
    readCache: () => answer(state.usage === undefined ? undefined : { currentUsage: state.usage }),
    store:
      options.reservedUsage === false
        ? {}
        : { reservedUsage: () => (state.heldAsynchronous ? Promise.resolve(state.held) : answer(state.held)) },
    emit: (event: string, overrun: UsageOverrun) => {
      if (event === 'usage:overrun') state.signalled.push(overrun);
    },
    background: (operation: Promise<unknown>) => state.background.push(operation),
    storeError: (error: Error) => state.errors.push(error),
  } as unknown as Runtime;
  state.overruns = new Overruns(runtime);
  return state;
}

function decision(overrides: Partial<Decision> = {}): Decision {
  return {
    granted: true,
    featureId: 'f',
    customerId: 'c',
    resourceId: undefined,
    requestedUsage: 2,
    currentUsage: 1,
    usageLimit: 4,
    hasUnlimitedUsage: false,
    source: 'cache',
    metered: true,
    ...overrides,
  } as unknown as Decision;
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

function judge(r: Rig, cause: OverrunCause, units: number, d = decision(), queued?: Promise<void>): void {
  r.overruns.judge('k', d, units, queued, cause);
}

afterEach(() => {
  jest.useRealTimers();
});

// Mutants: signal()'s `usage <= usageLimit` → `<` or dropped, the usage judged as the decision's instead of the store's,
// the event's or the warning's fields emptied, the message dropped.
test('a settle past the reservation that takes the store usage past the limit is signalled once, with the usage and the units', () => {
  const r = rig();
  r.usage = 5; // the store's usage once the settle of 3 (2 reserved) is in
  const d = decision();
  judge(r, 'settled', 3, d);
  expect(r.signalled).toEqual([{ decision: d, actualUnits: 3, usage: 5, usageLimit: 4 }]);
  expect(r.warnings).toEqual([
    [
      { featureId: 'f', requestedUsage: 2, actualUnits: 3, usage: 5, usageLimit: 4 },
      expect.stringMatching(/settled more units than it reserved and took the usage past its limit/),
    ],
  ]);
  expect(r.overruns.watching('k')).toBe(false);
});

test('a settle that lands the usage exactly on the limit, nothing held, is not signalled nor watched', () => {
  const r = rig();
  r.usage = 4;
  judge(r, 'settled', 3);
  expect(r.signalled).toEqual([]);
  expect(r.warnings).toEqual([]);
  expect(r.overruns.watching('k')).toBe(false);
});

// Mutants: `limited` true, or its operands dropped: an unlimited feature (no usageLimit, or hasUnlimitedUsage) or a
// commit of 0 units signalled an overrun.
test.each([
  ['no usageLimit', { usageLimit: null }, 3],
  ['unlimited usage', { hasUnlimitedUsage: true }, 3],
  ['0 units committed', {}, 0],
])('%s: never signalled, whatever the usage', (_name, overrides, units) => {
  const r = rig();
  r.usage = 50;
  r.held = 10;
  judge(r, 'lapsed', units, decision(overrides));
  judge(r, 'settled', units, decision(overrides));
  expect(r.signalled).toEqual([]);
  expect(r.overruns.watching('k')).toBe(false);
});

// Mutants: the fallback branch taken for a cached or upstream decision (or never): a fallback grant counts against its
// own total, the decision's usage plus the units; Stigg's entitlement against the store's usage.
test("a fallback grant's settle is judged by its own total (the decision's usage plus the units), not the store's usage", () => {
  const r = rig();
  r.usage = 0; // the store knows nothing of the fallback's units
  judge(r, 'settled', 3, decision({ source: 'fallback', currentUsage: 2 }));
  expect(r.signalled).toMatchObject([{ usage: 5, usageLimit: 4, actualUnits: 3 }]);
  const within = rig();
  within.usage = 9;
  judge(within, 'settled', 3, decision({ source: 'fallback', currentUsage: null as unknown as number }));
  expect(within.signalled).toEqual([]); // an unknown usage counts 0: 3 is within 4
});

test.each(['cache', 'upstream'] as const)('a %s decision settled past its reservation is judged by the store usage', (source) => {
  const r = rig();
  r.usage = 4;
  judge(r, 'settled', 3, decision({ source, currentUsage: 3 })); // 3 + 3 would be past 4; the store says 4
  expect(r.signalled).toEqual([]);
  r.usage = 5;
  judge(r, 'settled', 3, decision({ source, currentUsage: 0 }));
  expect(r.signalled).toMatchObject([{ usage: 5 }]);
});

// Mutants: the evicted entry's fallback (`cause === 'settled'` → true/false, `?? 0`, `+ units` → `- units`).
test('a settle whose entry was evicted meanwhile is judged by the decision usage plus its units', () => {
  const r = rig();
  r.usage = undefined;
  judge(r, 'settled', 3, decision({ currentUsage: 2 }));
  expect(r.signalled).toMatchObject([{ usage: 5, usageLimit: 4 }]);
  const unknown = rig();
  judge(unknown, 'settled', 4, decision({ currentUsage: null as unknown as number }));
  expect(unknown.signalled).toEqual([]); // 0 + 4: on the limit
});

// Mutants: the lapsed usage without the held units (`usage + held` → `usage`), the lapsed message, a lapsed commit
// watched, or judged by the decision when its entry is gone.
test('a lapsed commit is judged by the store usage plus the units others hold, with its own message; evicted, nothing to judge', () => {
  const r = rig();
  r.usage = 3;
  r.held = 2;
  const d = decision();
  judge(r, 'lapsed', 2, d);
  expect(r.signalled).toEqual([{ decision: d, actualUnits: 2, usage: 5, usageLimit: 4 }]);
  expect(r.warnings[0]?.[1]).toMatch(/committed after its reservation lapsed/);
  expect(r.overruns.watching('k')).toBe(false);
  const within = rig();
  within.usage = 2;
  within.held = 2;
  judge(within, 'lapsed', 2);
  expect(within.signalled).toEqual([]);
  expect(within.overruns.watching('k')).toBe(false);
  const evicted = rig();
  evicted.held = 9;
  judge(evicted, 'lapsed', 2, decision({ currentUsage: 9 }));
  expect(evicted.signalled).toEqual([]);
});

test('a store without reservedUsage counts no units held', () => {
  const r = rig({ reservedUsage: false });
  r.usage = 4;
  judge(r, 'lapsed', 2);
  expect(r.signalled).toEqual([]);
  r.usage = 5;
  judge(r, 'lapsed', 2);
  expect(r.signalled).toMatchObject([{ usage: 5 }]);
});

// Mutants: watch()'s condition (`usage <= usageLimit`, `usage + held > usageLimit`, `&&` → `||`, `cause === 'settled'`),
// again() never signalling or never unwatching, committed() not judging again.
test('a settle within the limit while others hold units is watched, and signalled when their commit takes the usage past it', () => {
  const r = rig();
  r.usage = 3; // limit 4: A settled 3 of 2 reserved
  r.held = 2; // B holds 2
  judge(r, 'settled', 3);
  expect(r.signalled).toEqual([]);
  expect(r.overruns.watching('k')).toBe(true);
  expect(r.overruns.watching('other')).toBe(false);
  r.overruns.committed('k', undefined); // another request's commit, not past it yet
  expect(r.signalled).toEqual([]);
  expect(r.overruns.watching('k')).toBe(true);
  r.usage = 5; // B commits its 2
  r.held = 0;
  r.overruns.committed('k', undefined);
  expect(r.signalled).toMatchObject([{ usage: 5, usageLimit: 4, actualUnits: 3 }]);
  expect(r.overruns.watching('k')).toBe(false);
  r.overruns.committed('k', undefined); // no longer watched: not signalled twice
  expect(r.signalled).toHaveLength(1);
});

test('a settle within the limit with too little held to pass it is not watched', () => {
  const r = rig();
  r.usage = 3;
  r.held = 1; // 3 + 1 = 4: cannot pass 4
  judge(r, 'settled', 3);
  expect(r.overruns.watching('k')).toBe(false);
  expect(r.signalled).toEqual([]);
});

// Mutants: again()'s unwatch condition (`usage + held <= limit` → `<`, the deadline `>=` → `>`, dropped).
test('a watched key is dropped once what is held can no longer pass the limit', () => {
  const r = rig();
  r.usage = 3;
  r.held = 2;
  judge(r, 'settled', 3);
  r.held = 1; // B released 1 of its 2: 3 + 1 = 4, on the limit
  r.overruns.committed('k', undefined);
  expect(r.overruns.watching('k')).toBe(false);
  r.usage = 9;
  r.overruns.committed('k', undefined);
  expect(r.signalled).toEqual([]);
});

test('a watched key is dropped once the longest hold (reservationMaxMs + reservationTtlMs) has passed, and judged until then', () => {
  const r = rig();
  r.usage = 3;
  r.held = 2;
  judge(r, 'settled', 3);
  r.now += 90_000 - 1;
  r.overruns.committed('k', undefined);
  expect(r.overruns.watching('k')).toBe(true);
  r.now += 1;
  r.overruns.committed('k', undefined);
  expect(r.overruns.watching('k')).toBe(false);
});

// Mutants: the timer never started, started with nothing to judge, its loop emptied, its period; stop() not clearing.
test('a watched key is judged again every 2 s (commits of other processes), and the timer stops with the last watch', () => {
  jest.useFakeTimers();
  const r = rig();
  r.usage = 3;
  r.held = 2;
  judge(r, 'settled', 3);
  expect(jest.getTimerCount()).toBe(1);
  r.usage = 5;
  jest.advanceTimersByTime(1_999);
  expect(r.signalled).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(r.signalled).toMatchObject([{ usage: 5 }]);
  expect(r.overruns.watching('k')).toBe(false);
  expect(jest.getTimerCount()).toBe(0);
});

test('stop() drops every watch and its timer; a settle after it is judged once, never watched', () => {
  jest.useFakeTimers();
  const r = rig();
  r.usage = 3;
  r.held = 2;
  judge(r, 'settled', 3);
  r.overruns.stop();
  expect(r.overruns.watching('k')).toBe(false);
  expect(jest.getTimerCount()).toBe(0);
  judge(r, 'settled', 3);
  expect(r.overruns.watching('k')).toBe(false);
  expect(jest.getTimerCount()).toBe(0);
  r.usage = 5;
  judge(r, 'settled', 3);
  expect(r.signalled).toHaveLength(1);
});

// Mutants: the bound (`size >= MAX_WATCHED` → `>`, never dropping, dropping the newest).
test('at most 1,000 keys are watched: the oldest watch is dropped for a new one', () => {
  const r = rig();
  r.usage = 3;
  r.held = 2;
  for (let i = 0; i < 1_000; i += 1) r.overruns.judge(`k${i}`, decision(), 3, undefined, 'settled');
  expect(r.overruns.watching('k0')).toBe(true);
  expect(r.overruns.watching('k999')).toBe(true);
  r.overruns.judge('k1000', decision(), 3, undefined, 'settled');
  expect(r.overruns.watching('k0')).toBe(false);
  expect(r.overruns.watching('k1')).toBe(true);
  expect(r.overruns.watching('k1000')).toBe(true);
  r.overruns.judge('k1', decision(), 3, undefined, 'settled'); // watched again: not a new key, nothing dropped
  expect(r.overruns.watching('k2')).toBe(true);
});

// Mutants: after() judging before the commit is in, or only when it succeeded; an asynchronous store's answers not
// awaited; a failure while judging thrown or not reported as a store error.
test('with an asynchronous store, the commit is judged once it is in, even if it failed, and kept in the background', async () => {
  const r = rig();
  r.asynchronous = true;
  r.usage = 3;
  let land!: () => void;
  judge(r, 'settled', 3, decision(), new Promise<void>((resolve) => (land = resolve)));
  r.usage = 5; // the store's usage once the commit is in
  await flush();
  expect(r.signalled).toEqual([]);
  land();
  await flush();
  expect(r.signalled).toMatchObject([{ usage: 5 }]);
  expect(r.background).toHaveLength(1);
  judge(r, 'lapsed', 2, decision(), Promise.reject(new Error('the store refused the commit')));
  await flush();
  expect(r.signalled).toHaveLength(2);
  expect(r.errors).toEqual([]);
});

test('a failure while judging is a store error, never thrown into the commit', async () => {
  const r = rig();
  const failing = new Overruns({
    ...({} as Runtime),
    now: () => 0,
    readCache: () => {
      throw new Error('cache broke');
    },
    store: {},
    storeError: (error: Error) => r.errors.push(error),
    background: (operation: Promise<unknown>) => r.background.push(operation),
  } as unknown as Runtime);
  expect(() => failing.judge('k', decision(), 3, undefined, 'settled')).not.toThrow();
  expect(r.errors.map((error) => error.message)).toEqual(['cache broke']);
  failing.judge('k', decision(), 3, Promise.resolve(), 'settled');
  await Promise.all(r.background);
  await flush();
  expect(r.errors.map((error) => error.message)).toEqual(['cache broke', 'cache broke']);
});

// Mutants: the settled usage judged with the units held (`cause === 'lapsed'` → true), and after() treating a judgement
// that answered at once as a promise (`isThenable(done)` → true: a TypeError reported as a store error).
test('a settle past the limit is signalled with the store usage alone (what others hold is theirs), and no store error', () => {
  const r = rig();
  r.usage = 5;
  r.held = 1;
  judge(r, 'settled', 3);
  expect(r.signalled).toMatchObject([{ usage: 5 }]);
  expect(r.errors).toEqual([]);
});

// Mutant: watch()'s `usage <= usageLimit` → `<`: a settle landing exactly on the limit while others hold units was not
// watched, and their commits past it went unsignalled.
test('a settle landing exactly on the limit while others hold units is watched', () => {
  const r = rig();
  r.usage = 4;
  r.held = 1;
  judge(r, 'settled', 3);
  expect(r.overruns.watching('k')).toBe(true);
  r.usage = 5;
  r.overruns.committed('k', undefined);
  expect(r.signalled).toMatchObject([{ usage: 5, usageLimit: 4 }]);
  expect(r.warnings[0]?.[1]).toMatch(/settled more units than it reserved/);
});

// Mutants: again()'s `watch === undefined` → false (a TypeError as a store error), its cause 'settled' emptied (an
// evicted entry then unwatched at once, though what is held can still pass the limit).
test('a commit of a key no longer watched is nothing; a watched key whose entry was evicted is judged by the decision usage plus its units', () => {
  const r = rig();
  r.overruns.committed('k', undefined);
  expect(r.errors).toEqual([]);
  r.usage = 3;
  r.held = 2;
  judge(r, 'settled', 3, decision({ currentUsage: 1 }));
  r.usage = undefined; // evicted: 1 + 3 = 4, and 2 held can still pass 4
  r.overruns.committed('k', undefined);
  expect(r.overruns.watching('k')).toBe(true);
  expect(r.errors).toEqual([]);
});

// Mutants: watch() starting a new timer for each key (`timer !== undefined` → false: the earlier ones never cleared);
// unwatch() clearing the timer while other keys are watched (`size === 0` → true, `&&` → `||`).
test('one timer judges every watched key, and it runs until the last watch ends', () => {
  jest.useFakeTimers();
  const r = rig();
  r.usage = 3;
  r.held = 2;
  r.overruns.judge('a', decision(), 3, undefined, 'settled');
  r.overruns.judge('b', decision(), 3, undefined, 'settled');
  expect(jest.getTimerCount()).toBe(1);
  r.held = 1; // 'a' judged again: can no longer pass
  r.overruns.committed('a', undefined);
  expect(r.overruns.watching('a')).toBe(false);
  expect(jest.getTimerCount()).toBe(1);
  r.usage = 5;
  jest.advanceTimersByTime(2_000);
  expect(r.signalled).toHaveLength(1);
  expect(r.overruns.watching('b')).toBe(false);
  expect(jest.getTimerCount()).toBe(0);
});

// Mutant: usage()'s `!isThenable(entry) && !isThenable(held)` → `||`: a cache read answering at once with the store's
// count of units held on its way added a promise to the usage.
test('the cache answering at once and the store later: the usage is judged once both are in', async () => {
  const r = rig();
  r.heldAsynchronous = true;
  r.usage = 3;
  r.held = 2;
  judge(r, 'lapsed', 2);
  await flush();
  expect(r.signalled).toMatchObject([{ usage: 5, usageLimit: 4 }]);
});
