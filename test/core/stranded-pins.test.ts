// Commits of served requests that a shared store refused (src/core/stranded.ts): held in the process,
// queued again every second until the store takes them, bounded at MAX_STRANDED. Each test is named
// for the behaviour it pins and was run against its mutants (issue 25). The store is the memory store
// behind a switch that makes it answer asynchronously and refuse while "down" (Redis down, as seen here).
import { MemoryStore } from '../../src/core/memory-store';
import { HeldCommitsFullError, MAX_STRANDED, StrandedReports } from '../../src/core/stranded';
import type { PendingUsage } from '../../src/core/types';

let seq = 0;
function report(value = 1): PendingUsage {
  seq += 1;
  const id = `stranded-${seq}`;
  return {
    id,
    idempotencyKey: id,
    customerId: 'c1',
    featureId: 'f',
    resourceId: undefined,
    value,
    updateBehavior: 'DELTA',
    createdAt: new Date(Date.UTC(2026, 11, 7)).toISOString(),
    attempts: 0,
  };
}

/** The memory store answering asynchronously, as a shared store does (Store.enqueueUsage returns MaybePromise), and refusing while down. */
class SwitchedStore extends MemoryStore {
  down = true;
  override enqueueUsage(key: string, pending: PendingUsage, held = 0): void {
    const answer = this.down
      ? Promise.reject(new Error('store down'))
      : Promise.resolve().then(() => super.enqueueUsage(key, pending, held));
    return answer as unknown as void;
  }
}

function rig() {
  const store = new SwitchedStore();
  const state = {
    set down(down: boolean) {
      store.down = down;
    },
    queued: 0,
    errors: [] as Error[],
    dropped: [] as Array<[PendingUsage, Error]>,
  };
  const stranded = new StrandedReports(
    store,
    () => (state.queued += 1),
    (error) => state.errors.push(error),
    (pending, error) => state.dropped.push([pending, error]),
  );
  return { store, state, stranded };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  for (let waited = 0; !condition() && waited < ms; waited += 20) await sleep(20);
}

// Mutants: retry()'s finally not rescheduling (`held.length > 0` → false) or not clearing `retrying` (its block emptied):
// the held report stayed in the process after the store came back (until close() handed it over).
test('a held commit the store still refuses is tried again a second later by itself, and queued once the store is back; so is the next one', async () => {
  const { store, state, stranded } = rig();
  stranded.add('k', report(3), new Error('store down'));
  expect(stranded.size).toBe(1);
  await until(() => state.errors.length > 0); // the first retry, a second later: refused again
  expect(state.errors).not.toHaveLength(0);
  state.down = false;
  await until(() => stranded.size === 0);
  expect(stranded.size).toBe(0);
  expect(store.pendingUsageCount).toBe(1);
  expect(state.queued).toBe(1);
  // Down again for the next commit: it too is retried until taken.
  state.down = true;
  stranded.add('k', report(4), new Error('store down'));
  await sleep(1_100);
  state.down = false;
  await until(() => stranded.size === 0);
  expect(stranded.size).toBe(0);
  expect(store.pendingUsageCount).toBe(2);
});

// Mutant: requeue's loop `held.length > 0` → `>= 0`: after the last one it read past the end (a store error for nothing).
test('queueing the held commits again reports no store error once they are all taken', async () => {
  const { store, state, stranded } = rig();
  state.down = false;
  stranded.add('k', report(), new Error('store down'));
  stranded.add('k', report(), new Error('store down'));
  await stranded.retry();
  expect(store.pendingUsageCount).toBe(2);
  expect(state.errors).toEqual([]);
  expect(stranded.size).toBe(0);
});

// Mutants: refusal() never refusing, counting `held - inFlight`, or the in-flight count moved the wrong way
// (sending()); add() never dropping at the bound, or one past it. Past MAX_STRANDED a served unit would be
// neither held nor queued: no metered grant is served from there on.
test(`held commits are bounded at ${MAX_STRANDED}: metered grants are refused from there, counting commits still on their way, and one past it is dropped loudly`, async () => {
  const { state, stranded } = rig();
  for (let i = 0; i < MAX_STRANDED - 2; i += 1) stranded.add('k', report(), new Error('store down'));
  expect(stranded.size).toBe(MAX_STRANDED - 2);
  expect(stranded.refusal(1)).toBeUndefined();
  let answer!: () => void;
  const onItsWay = stranded.sending(new Promise<void>((resolve) => (answer = resolve)));
  const refused = stranded.refusal(1);
  expect(refused).toBeInstanceOf(HeldCommitsFullError);
  expect(refused).toMatchObject({
    name: 'HeldCommitsFullError',
    errorCode: 'ERR_STIGG_GATE_HELD_COMMITS_FULL',
    transient: false,
    maxHeld: MAX_STRANDED,
  });
  expect((refused as Error).message).toMatch(/refused the commits of 100000 served requests/);
  answer();
  await onItsWay;
  expect(stranded.refusal(1)).toBeUndefined();
  stranded.add('k', report(), new Error('store down'));
  stranded.add('k', report(), new Error('store down'));
  expect(stranded.size).toBe(MAX_STRANDED);
  expect(stranded.refusal(0)).toBeInstanceOf(HeldCommitsFullError);
  expect(state.dropped).toEqual([]);
  const last = report(9);
  stranded.add('k', last, new Error('store down'));
  expect(stranded.size).toBe(MAX_STRANDED);
  expect(state.dropped.map(([pending]) => pending)).toEqual([last]);
  expect(state.dropped[0]?.[1].message).toMatch(/store refused this report \(store down\) and 100000 others wait/);
  expect(stranded.take()).toHaveLength(MAX_STRANDED);
});

/** The memory store whose next enqueueUsage answers only when the test opens it (a slow Redis). */
class GatedStore extends MemoryStore {
  private open: (() => void) | undefined;
  gated = false;
  override enqueueUsage(key: string, pending: PendingUsage, held = 0): void {
    if (!this.gated) return super.enqueueUsage(key, pending, held);
    this.gated = false;
    const answer = new Promise<void>((resolve) => (this.open = resolve)).then(() => super.enqueueUsage(key, pending, held));
    return answer as unknown as void;
  }
  answer(): void {
    this.open?.();
  }
}

// Mutant 51: requeue's `held[0] === next` → true. close() takes the held reports (take()) while one of them is being
// queued again; a commit held after that is at the head when the store answers, and the mutant shifted it out: a
// served unit neither held, queued, nor handed to the app.
test('a commit held while close() takes the others, one of them on its way to the store, is still queued', async () => {
  const store = new GatedStore();
  const stranded = new StrandedReports(
    store,
    () => undefined,
    (error) => {
      throw error;
    },
    () => {
      throw new Error('nothing is dropped');
    },
  );
  const first = report(1);
  stranded.add('k', first, new Error('store down'));
  store.gated = true;
  const retrying = stranded.retry(); // first is on its way, the store slow to answer
  await sleep(0);
  expect(stranded.take()).toEqual([first]); // close() hands it to the app (the same idempotency key if it lands too)
  const late = report(7);
  stranded.add('k', late, new Error('store down')); // a commit refused after that
  store.answer();
  await retrying;
  const queued = store.claimUsage(10, 60_000);
  expect(queued.map((pending) => pending.id).sort()).toEqual([first.id, late.id].sort());
  expect(stranded.size).toBe(0);
  expect(stranded.take()).toEqual([]);
});
