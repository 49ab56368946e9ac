import type { Entitlements } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig, usageKey } from './helpers';
import { forSuite } from '../support/suite';

const CUSTOMERS = Array.from({ length: 500 }, (_, i) => `stream-${i}`);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const rig = forSuite(() => startRig(CUSTOMERS.map((id) => customer(id, 'plan-revvenu-growth'))));

const bulkCalls = () => rig.emulator.stats().operations['reportUsageBulk'] ?? 0;
const applied = (customerId: string) => rig.emulator.stats().usage[usageKey(customerId, CAMPAIGNS)] ?? 0;

async function warm(entitlements: Entitlements): Promise<void> {
  for (const customerId of CUSTOMERS) await entitlements.check({ customerId, featureId: CAMPAIGNS });
}

/** `total` commits round-robin over the customers, `perStep` every `stepMs`: a steady stream whose steps do not add up to 100. */
async function stream(entitlements: Entitlements, total: number, perStep: number, stepMs: number): Promise<number[]> {
  const committedAt: number[] = [];
  let sent = 0;
  while (sent < total) {
    for (let i = 0; i < perStep && sent < total; i += 1, sent += 1) {
      const lease = await entitlements.acquire({
        customerId: CUSTOMERS[sent % CUSTOMERS.length] as string,
        featureId: CAMPAIGNS,
        requestedUsage: 1,
      });
      expect(lease.decision.granted).toBe(true);
      lease.commit();
      committedAt.push(Date.now());
    }
    await sleep(stepMs);
  }
  return committedAt;
}

/**
 * Runs of 100 commits that took longer than half a flush interval: on a machine too busy to keep the
 * pace, the stream is no longer steady and the timer rightly sends such a partial batch (a report waits
 * at most 1.5 intervals). On a machine that keeps the pace there are none, and the bound is exact.
 */
function slowHundreds(committedAt: number[], flushIntervalMs: number): number {
  let slow = 0;
  for (let i = 0; i + 99 < committedAt.length; i += 100) {
    if ((committedAt[i + 99] as number) - (committedAt[i] as number) > flushIntervalMs / 2) slow += 1;
  }
  return slow;
}

test('1,500 commits over 500 customers at a steady pace: one reportUsageBulk per 100, and Stigg counts every unit once', async () => {
  // 7 commits every 10 ms (~3 s, three flush intervals): after each full batch a few reports are
  // left over, so a timer that measured their wait from the stream's first report would split batches.
  const entitlements = rig.make({ usage: { flushIntervalMs: 1_000 } });
  await warm(entitlements);
  const before = bulkCalls();
  const committedAt = await stream(entitlements, 1_500, 7, 10);
  await entitlements.flush();
  // One call per 100, plus a partial batch wherever the stream stalled (slowHundreds), plus at most two
  // for a stall that slowHundreds cannot see (a GC or a jest worker pausing this process between two
  // commits that straddle a timer tick). A timer that sends every partial batch made 19 (checked).
  expect(bulkCalls() - before).toBeLessThanOrEqual(15 + slowHundreds(committedAt, 1_000) + 2);
  for (const customerId of CUSTOMERS) expect(applied(customerId)).toBe(3);
  expect(CUSTOMERS.reduce((sum, id) => sum + applied(id), 0)).toBe(1_500);
}, 120_000);

test('a partial batch still goes within 1.5 × flushIntervalMs of its oldest report, without flush()', async () => {
  const entitlements = rig.make({ usage: { flushIntervalMs: 200 } });
  await entitlements.check({ customerId: 'stream-0', featureId: CAMPAIGNS });
  const before = applied('stream-0');
  const calls = bulkCalls();
  const started = Date.now();
  (await entitlements.acquire({ customerId: 'stream-0', featureId: CAMPAIGNS, requestedUsage: 2 })).commit();
  while (applied('stream-0') === before) {
    // Far past 1.5 intervals, so a busy machine cannot fail it: the timer not sending at all does.
    if (Date.now() - started > 10_000) throw new Error('the partial batch was never sent');
    await sleep(10);
  }
  expect(applied('stream-0') - before).toBe(2);
  expect(bulkCalls() - calls).toBe(1);
});
