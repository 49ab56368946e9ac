// The memory store's outbox (src/core/memory-outbox.ts): where a one-token change merges a report Stigg
// may already have, merges reports of different keys, serves a report twice or loses one. Each test is
// named for the behaviour it pins and was run against its mutants (issue 25).
import { MemoryOutbox, OutboxFullError } from '../../src/core/memory-outbox';
import type { PendingUsage } from '../../src/core/types';

let seq = 0;
function report(
  value: number,
  { customerId = 'c1', resourceId, featureId = 'f', updateBehavior = 'DELTA', createdAt }: Partial<PendingUsage> = {},
): PendingUsage {
  seq += 1;
  const id = `r${seq}`;
  return {
    id,
    idempotencyKey: id,
    customerId,
    featureId,
    resourceId,
    value,
    updateBehavior,
    createdAt: createdAt ?? new Date(Date.UTC(2026, 11, 7, 0, 0, seq)).toISOString(),
    attempts: 0,
  };
}

const values = (reports: PendingUsage[]): number[] => reports.map((r) => r.value);
const ids = (reports: PendingUsage[]): string[] => reports.map((r) => r.id);

test('a full outbox adds up the untried DELTAs of one key into the first of them, and keeps SETs and what follows a SET apart: no unit lost', () => {
  const outbox = new MemoryOutbox(6);
  const queued = [report(1), report(2), report(5, { resourceId: 'r' }), report(10, { updateBehavior: 'SET' }), report(3), report(4)];
  for (const r of queued) outbox.enqueue(r, 0);
  const late = report(6);
  outbox.enqueue(late, 0); // full: compacted first
  expect(outbox.count).toBe(5);
  const claimed = outbox.claim(10, 1_000, 0);
  expect(ids(claimed)).toEqual([queued[0], queued[2], queued[3], queued[4], late].map((r) => r?.id));
  expect(values(claimed)).toEqual([3, 5, 10, 7, 6]);
  expect(claimed.map((r) => r.updateBehavior)).toEqual(['DELTA', 'DELTA', 'SET', 'DELTA', 'DELTA']);
});

test('reports of different customers, resources or features never merge, even when their ids run together', () => {
  const outbox = new MemoryOutbox(4);
  const queued = [
    report(1, { customerId: 'c1', featureId: 'f' }),
    report(2, { customerId: 'c', resourceId: '1', featureId: 'f' }),
    report(3, { customerId: 'c1', featureId: 'f2' }),
    report(4, { customerId: 'c1', resourceId: 'f', featureId: '' }),
  ];
  for (const r of queued) outbox.enqueue(r, 0);
  expect(() => outbox.enqueue(report(5, { customerId: 'other' }), 0)).toThrow(OutboxFullError);
  expect(values(outbox.claim(10, 1_000, 0))).toEqual([1, 2, 3, 4]);
});

test('two DELTAs whose sum is not a finite number stay apart (no unit turned into Infinity)', () => {
  const outbox = new MemoryOutbox(2);
  outbox.enqueue(report(Number.MAX_VALUE), 0);
  outbox.enqueue(report(Number.MAX_VALUE), 0);
  expect(() => outbox.enqueue(report(1, { customerId: 'other' }), 0)).toThrow(OutboxFullError);
  expect(values(outbox.claim(10, 1_000, 0))).toEqual([Number.MAX_VALUE, Number.MAX_VALUE]);
});

test('a report handed out before (its lease ran out) goes back to the front and is never merged into: Stigg may have it', () => {
  const outbox = new MemoryOutbox(4);
  const first = report(1);
  outbox.enqueue(first, 0);
  expect(ids(outbox.claim(1, 100, 0))).toEqual([first.id]);
  const second = report(2);
  const third = report(4);
  outbox.enqueue(second, 0);
  outbox.enqueue(third, 0);
  outbox.claim(0, 100, 200); // the lease ran out: `first` is back at the front, as sent before
  outbox.enqueue(report(8, { customerId: 'other' }), 0);
  outbox.enqueue(report(16, { customerId: 'other-2' }), 0); // full: second and third merge, first stays itself
  const claimed = outbox.claim(10, 100, 200);
  expect(ids(claimed).slice(0, 2)).toEqual([first.id, second.id]);
  expect(values(claimed)).toEqual([1, 6, 8, 16]);
});

test('a DELTA queued after another was merged into stays merged by sum; the sent-ahead count shrinks as those are claimed again', () => {
  const outbox = new MemoryOutbox(4);
  const a = report(1);
  const b = report(2);
  outbox.enqueue(a, 0);
  outbox.enqueue(b, 0);
  outbox.claim(2, 100, 0);
  outbox.claim(0, 100, 200); // both back at the front, sent ahead
  expect(ids(outbox.claim(1, 100, 200))).toEqual([a.id]); // one of the two claimed again: b alone is still sent ahead
  outbox.enqueue(report(3), 0);
  outbox.enqueue(report(5), 0);
  outbox.enqueue(report(7, { customerId: 'other' }), 0); // full (a leased, b, 3, 5): compacts 3 and 5, never b
  expect(values(outbox.claim(10, 100, 200))).toEqual([2, 8, 7]);
});

test('a batch acked after its lease ran out is removed from the queue where it went back, and nothing else is', () => {
  const outbox = new MemoryOutbox(10);
  const batch = [report(1), report(2)];
  const rest = [report(3), report(4)];
  for (const r of [...batch, ...rest]) outbox.enqueue(r, 0);
  expect(ids(outbox.claim(2, 100, 0))).toEqual(ids(batch));
  expect(ids(outbox.claim(1, 100, 200))).toEqual([batch[0]?.id]); // the lease ran out: batch back at the front
  outbox.ack(ids(batch)); // the late ack of the first claim: batch[0] from its new lease, batch[1] from the queue
  expect(outbox.count).toBe(2);
  // Neither of the rest was sent (batch[1], which was, is gone): the two merge when the outbox is full.
  for (let i = 0; i < 8; i += 1) outbox.enqueue(report(1, { customerId: `k${i}` }), 0);
  outbox.enqueue(report(1, { customerId: 'k-last' }), 0);
  const left = outbox.claim(10, 100, 200);
  expect(ids(left).slice(0, 1)).toEqual([rest[0]?.id]);
  expect(values(left).slice(0, 1)).toEqual([7]);
  expect(left).toHaveLength(10);
});

test('an ack of part of a batch removes those reports only; the rest stays leased and comes back when its lease runs out', () => {
  const outbox = new MemoryOutbox(10);
  const batch = [report(1), report(2), report(3)];
  for (const r of batch) outbox.enqueue(r, 0);
  outbox.claim(3, 100, 0);
  outbox.ack([batch[1]?.id as string]);
  expect(outbox.count).toBe(2);
  expect(outbox.claim(10, 100, 50)).toEqual([]);
  expect(ids(outbox.claim(10, 100, 200))).toEqual([batch[0]?.id, batch[2]?.id]);
  outbox.ack([]);
  expect(outbox.count).toBe(2);
});

test('take() hands over every report, leased or queued, as copies, and leaves the outbox empty', () => {
  const outbox = new MemoryOutbox(10);
  const queued = [report(1), report(2), report(3)];
  for (const r of queued) outbox.enqueue(r, 0);
  outbox.claim(1, 100, 0);
  const taken = outbox.take();
  expect(taken).toEqual(queued);
  expect(taken[0]).not.toBe(queued[0]);
  expect(outbox.count).toBe(0);
  expect(outbox.claim(10, 100, 1_000)).toEqual([]);
  expect(outbox.oldestCreatedAt).toBeNull();
});

test('oldestCreatedAt is the oldest report claimed or not', () => {
  const outbox = new MemoryOutbox(10);
  expect(outbox.oldestCreatedAt).toBeNull();
  const old = report(1, { createdAt: '2026-12-07T00:00:00.000Z' });
  const newer = report(1, { createdAt: '2026-12-07T00:00:05.000Z' });
  const newest = report(1, { createdAt: '2026-12-07T00:00:09.000Z' });
  outbox.enqueue(old, 0);
  outbox.enqueue(newer, 0);
  outbox.claim(1, 100, 0);
  expect(outbox.oldestCreatedAt).toBe(old.createdAt); // leased
  outbox.enqueue(newest, 0);
  outbox.claim(1, 100, 0);
  outbox.ack([old.id]);
  expect(outbox.oldestCreatedAt).toBe(newer.createdAt); // leased, older than the queued one
  outbox.ack([newer.id]);
  expect(outbox.oldestCreatedAt).toBe(newest.createdAt);
});

test('a long queue claimed in batches serves each report once, in order, across the trimming of its claimed head', () => {
  const outbox = new MemoryOutbox(5_000);
  const queued = Array.from({ length: 3_000 }, (_, i) => report(1, { customerId: `k${i}` }));
  for (const r of queued) outbox.enqueue(r, 0);
  const served: string[] = [];
  for (let claimed = outbox.claim(700, 1_000, 0); claimed.length > 0; claimed = outbox.claim(700, 1_000, 0)) {
    served.push(...ids(claimed));
    outbox.ack(ids(claimed));
  }
  expect(served).toEqual(ids(queued));
  expect(outbox.count).toBe(0);
});

test('refusal(): room for the reports still to settle, counted before they are queued', () => {
  const outbox = new MemoryOutbox(3);
  outbox.enqueue(report(1, { customerId: 'a' }), 0);
  expect(outbox.refusal(1)).toBeUndefined();
  expect(outbox.refusal(2)).toBeInstanceOf(OutboxFullError);
  expect(() => outbox.enqueue(report(1, { customerId: 'b' }), 1)).not.toThrow();
  expect(() => outbox.enqueue(report(1, { customerId: 'c' }), 1)).toThrow(OutboxFullError);
  expect(outbox.claim(0, 100, 0)).toEqual([]);
});

// Mutants: OutboxFullError's name, message or `transient` (the app and the 503 read them).
test('a report refused by a full outbox is an OutboxFullError, not transient, naming the bound', () => {
  const outbox = new MemoryOutbox(1);
  outbox.enqueue(report(1, { customerId: 'a' }), 0);
  let refused: unknown;
  try {
    outbox.enqueue(report(1, { customerId: 'b' }), 0);
  } catch (error) {
    refused = error;
  }
  expect(refused).toMatchObject({ name: 'OutboxFullError', transient: false, errorCode: 'ERR_STIGG_GATE_OUTBOX_FULL', maxPendingUsage: 1 });
  expect((refused as Error).message).toBe(
    "The memory store's usage outbox holds 1 reports (maxPendingUsage) and Stigg has not taken them: report refused",
  );
});

// Mutant: sameKey's `report.resourceId ?? ''` → `&& ''` (every resource of a customer's feature one key).
test('DELTAs of two resources of one customer and feature never merge', () => {
  const outbox = new MemoryOutbox(2);
  outbox.enqueue(report(1, { resourceId: 'site-a' }), 0);
  outbox.enqueue(report(2, { resourceId: 'site-b' }), 0);
  expect(() => outbox.enqueue(report(4, { customerId: 'other' }), 0)).toThrow(OutboxFullError);
  expect(values(outbox.claim(10, 100, 0))).toEqual([1, 2]);
});

// Mutants: count and claim's `queue.length - head` → `+`, requeueExpired's `queue.slice(head)` → `queue` (what was
// claimed before served again).
test('with part of the queue claimed, the count is exact and an expired lease comes back alone, ahead of the unclaimed', () => {
  const outbox = new MemoryOutbox(10);
  const queued = [report(1), report(2), report(3), report(4)];
  for (const r of queued) outbox.enqueue(r, 0);
  expect(ids(outbox.claim(1, 100, 0))).toEqual([queued[0]?.id]);
  expect(outbox.count).toBe(4);
  expect(ids(outbox.claim(1, 1_000, 0))).toEqual([queued[1]?.id]);
  expect(outbox.count).toBe(4);
  expect(ids(outbox.claim(10, 100, 200))).toEqual([queued[0], queued[2], queued[3]].map((r) => r?.id));
  expect(outbox.count).toBe(4);
  expect(outbox.claim(10, 100, 200)).toEqual([]);
});

// Mutants: oldestCreatedAt taking a leased batch's first report whether or not it is older, or ignoring a batch
// when nothing is queued.
test('oldestCreatedAt: a queued report older than the leased ones wins, and a leased batch counts when nothing is queued', () => {
  const outbox = new MemoryOutbox(10);
  const newer = report(1, { createdAt: '2026-12-07T00:00:09.000Z' });
  const older = report(1, { createdAt: '2026-12-07T00:00:01.000Z' });
  outbox.enqueue(newer, 0);
  outbox.claim(1, 100, 0);
  expect(outbox.oldestCreatedAt).toBe(newer.createdAt);
  outbox.enqueue(older, 0); // another process's clock, or a report queued again
  expect(outbox.oldestCreatedAt).toBe(older.createdAt);
  outbox.claim(1, 100, 0);
  expect(outbox.oldestCreatedAt).toBe(older.createdAt);
});

// Mutants: ack()'s `sentEnd = head + sentAhead` → `-`, and `i < sentEnd` → false: after a late ack, a report
// sent before (still in the queue) was taken as never sent and merged into.
test('a late ack of one report sent before leaves the other sent-before reports unmerged', () => {
  const outbox = new MemoryOutbox(4);
  const [a, b] = [report(1), report(2)];
  outbox.enqueue(a, 0);
  outbox.enqueue(b, 0);
  outbox.claim(2, 100, 0);
  outbox.claim(0, 100, 200); // both back in the queue, sent before
  outbox.ack([a.id]); // Stigg took `a` after all (its first delivery's late ack)
  outbox.enqueue(report(4), 0);
  outbox.enqueue(report(8), 0);
  outbox.enqueue(report(16, { customerId: 'other' }), 0);
  outbox.enqueue(report(32, { customerId: 'other-2' }), 0); // full: 4 and 8 merge; b (sent before) stays 2
  const claimed = outbox.claim(10, 100, 200);
  expect(claimed[0]?.id).toBe(b.id);
  expect(values(claimed)).toEqual([2, 12, 16, 32]);
});

// Mutant: claim's `available = queue.length - head` → `+`: claiming the rest after a partial claim ran the head past
// the end, and the next report queued was never claimed.
test('after a partial claim, claiming the rest and then a report queued later serves each once', () => {
  const outbox = new MemoryOutbox(10);
  const queued = [report(1), report(2), report(3)];
  for (const r of queued) outbox.enqueue(r, 0);
  outbox.claim(1, 1_000, 0);
  expect(ids(outbox.claim(10, 1_000, 0))).toEqual([queued[1]?.id, queued[2]?.id]);
  expect(outbox.count).toBe(3);
  const later = report(4);
  outbox.enqueue(later, 0);
  expect(ids(outbox.claim(10, 1_000, 0))).toEqual([later.id]);
  expect(outbox.count).toBe(4);
});

// The outbox's memory and work, read from its private fields: the survivors of issue 25 that change neither which
// report is sent nor how often, but how much the outbox keeps and how often it copies or scans its queue (a process
// that reports every request lives with it for days).
interface Inside {
  queue: PendingUsage[];
  head: number;
  leased: Array<{ reports: PendingUsage[] }>;
}
const inside = (outbox: MemoryOutbox): Inside => outbox as unknown as Inside;

// Mutants: the trim's `head >= 1024` (→ `>`, true), `head * 2 >= length` (→ `>`, true), `&&` → `||`, the trim never
// done; the fully claimed queue not dropped (`head === length` → false).
test('the claimed head of the queue is trimmed once it is 1,024 reports and half the array, never before: memory bounded, no copy per claim', () => {
  const outbox = new MemoryOutbox(10_000);
  for (let i = 0; i < 2_048; i += 1) outbox.enqueue(report(1), 0);
  outbox.claim(1_023, 1_000, 0);
  expect(inside(outbox).queue).toHaveLength(2_048);
  outbox.claim(1, 1_000, 0); // head 1,024, half of 2,048
  expect(inside(outbox).queue).toHaveLength(1_024);
  expect(inside(outbox).head).toBe(0);
  const long = new MemoryOutbox(10_000);
  for (let i = 0; i < 4_000; i += 1) long.enqueue(report(1), 0);
  long.claim(1_024, 1_000, 0); // 1,024 claimed, under half
  expect(inside(long).queue).toHaveLength(4_000);
  const short = new MemoryOutbox(10);
  short.enqueue(report(1), 0);
  short.enqueue(report(1), 0);
  short.claim(1, 1_000, 0); // half, far from 1,024
  expect(inside(short).queue).toHaveLength(2);
  short.claim(1, 1_000, 0); // all claimed: the array is dropped
  expect(inside(short).queue).toHaveLength(0);
  expect(inside(short).head).toBe(0);
});

// Mutants: claim()'s early return (`available <= 0` → `< 0`, `max <= 0` → `< 0`, `||` → `&&`, dropped): an empty
// leased batch kept until its lease ran out.
test('a claim of nothing (nothing queued, or max 0) leases no batch', () => {
  const outbox = new MemoryOutbox(10);
  expect(outbox.claim(5, 1_000, 0)).toEqual([]);
  expect(inside(outbox).leased).toHaveLength(0);
  outbox.enqueue(report(1), 0);
  expect(outbox.claim(0, 1_000, 0)).toEqual([]);
  expect(inside(outbox).leased).toHaveLength(0);
  expect(outbox.claim(5, 1_000, 0)).toHaveLength(1);
  expect(outbox.claim(5, 1_000, 0)).toEqual([]);
  expect(inside(outbox).leased).toHaveLength(1);
});

// Mutants: the general ack keeping emptied batches (the filter's `length > 0` → `>= 0`, true, dropped).
test('a batch acked in another order than it was claimed is gone, not kept empty', () => {
  const outbox = new MemoryOutbox(10);
  outbox.enqueue(report(1), 0);
  outbox.enqueue(report(2), 0);
  const first = outbox.claim(2, 1_000, 0);
  outbox.enqueue(report(3), 0);
  outbox.claim(1, 1_000, 0);
  outbox.ack(ids(first).reverse());
  expect(inside(outbox).leased).toHaveLength(1);
  expect(outbox.count).toBe(1);
});

// Mutants: `compacted` left false after a compaction, or compacting when already compacted: a full outbox scanned its
// whole queue again for every refused report (nothing new to merge).
test('a full outbox compacts once until a report is queued again', () => {
  const outbox = new MemoryOutbox(2);
  outbox.enqueue(report(1, { customerId: 'a' }), 0);
  outbox.enqueue(report(1, { customerId: 'b' }), 0);
  const compact = jest.spyOn(outbox as unknown as { compact(): void }, 'compact');
  expect(outbox.refusal(0)).toBeInstanceOf(OutboxFullError);
  expect(outbox.refusal(0)).toBeInstanceOf(OutboxFullError);
  expect(() => outbox.enqueue(report(1, { customerId: 'c' }), 0)).toThrow(OutboxFullError);
  expect(compact).toHaveBeenCalledTimes(1);
  outbox.ack(ids(outbox.claim(1, 1_000, 0)));
  outbox.enqueue(report(1, { customerId: 'a' }), 0);
  expect(outbox.refusal(0)).toBeInstanceOf(OutboxFullError);
  expect(compact).toHaveBeenCalledTimes(2);
});

// Mutants: requeueExpired() called with no lease (`leased.length > 0` → `>= 0`, true), and rebuilding the queue with
// nothing expired (`expired.length === 0` → false): a copy of the queue on every claim.
test('a claim with no lease run out leaves the queue array as it is', () => {
  const outbox = new MemoryOutbox(10);
  const requeue = jest.spyOn(outbox as unknown as { requeueExpired(now: number): void }, 'requeueExpired');
  for (let i = 0; i < 4; i += 1) outbox.enqueue(report(1), 0);
  outbox.claim(1, 1_000, 0);
  expect(requeue).not.toHaveBeenCalled();
  const queue = inside(outbox).queue;
  outbox.claim(1, 1_000, 500); // the first lease still runs
  expect(requeue).toHaveBeenCalledTimes(1);
  expect(inside(outbox).queue).toBe(queue);
});

// Mutants: the exact-ack fast path missed (sameIds' checks, `exact !== -1`), and the general ack scanning the queue when
// every acked report was leased (`removed < acked.size` → true, `<=`): a new array per ack, and the queue copied.
test('the usual ack (exactly a claimed batch) removes it in place, and an ack found wholly in the leases leaves the queue as it is', () => {
  const outbox = new MemoryOutbox(10);
  for (let i = 0; i < 6; i += 1) outbox.enqueue(report(1), 0);
  const first = outbox.claim(2, 1_000, 0);
  const second = outbox.claim(2, 1_000, 0);
  const leased = inside(outbox).leased;
  const queue = inside(outbox).queue;
  outbox.ack(ids(second));
  expect(inside(outbox).leased).toBe(leased);
  expect(ids(inside(outbox).leased[0]?.reports ?? [])).toEqual(ids(first));
  outbox.ack(ids(first).reverse()); // not the batch as claimed: the general ack
  expect(inside(outbox).leased).toHaveLength(0);
  expect(inside(outbox).queue).toBe(queue);
  expect(outbox.count).toBe(2);
});
