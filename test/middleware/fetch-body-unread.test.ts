import { UNREAD_DRAIN_MS, UNREAD_GRACE_MS, watchBody } from '../../src/middleware/fetch-body';
import { settleResponse } from '../../src/middleware/fetch-host';
import type { Settlement } from '../../src/middleware/settle';

// A body the runtime stops reading without cancelling it (workerd: the client left while it was being
// written, or before the handler returned its Response, which is then never sent) is read out by the
// gate after UNREAD_GRACE_MS without a read, so its grant is settled instead of lapsing. The clock is
// mocked (the graces are seconds long); the streams are real.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The settlement as the body sees it: how it was told the body ended, and when the hold was let go. */
function recorder() {
  const calls: string[] = [];
  const settlement = {
    answered: (status: number) => calls.push(`answered ${status}`),
    aborted: () => calls.push('aborted'),
  } as unknown as Settlement<unknown>;
  return { calls, settlement, settled: () => calls.push('settled') };
}

/** A stream of `chunks` that ends (or, `endless`, waits forever after them). */
function source(chunks: string[], endless = false): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++]));
      else if (endless) return new Promise<void>(() => {});
      else controller.close();
      return undefined;
    },
  });
}

async function readAll(body: ReadableStream<Uint8Array> | null): Promise<string> {
  let text = '';
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value);
  return text;
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

const CHUNKS = ['one ', 'two ', 'three ', 'four ', 'five'];

test('a body nobody reads is read out after the grace: the handler completed, and a late reader still gets every byte', async () => {
  const { calls, settlement, settled } = recorder();
  const res = watchBody(new Response(source(CHUNKS)), settlement, settled, { graceMs: UNREAD_GRACE_MS });
  await jest.advanceTimersByTimeAsync(UNREAD_GRACE_MS - 100);
  expect(calls).toEqual([]);
  await jest.advanceTimersByTimeAsync(200);
  expect(calls).toEqual(['answered 200', 'settled']);
  expect(await readAll(res.body)).toBe(CHUNKS.join(''));
});

test('a body the runtime keeps reading, however slowly, is left to it: settled when it read the end', async () => {
  const { calls, settlement, settled } = recorder();
  const res = watchBody(new Response(source(CHUNKS)), settlement, settled, { graceMs: UNREAD_GRACE_MS });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  for (;;) {
    await jest.advanceTimersByTimeAsync(UNREAD_GRACE_MS - 1_000);
    const chunk = await reader.read();
    if (chunk.done) break;
    text += decoder.decode(chunk.value);
    // Two chunks are read ahead: the end is seen two reads before the reader gets there.
    if (text.length < 'one two three '.length) expect(calls).toEqual([]);
  }
  expect(text).toBe(CHUNKS.join(''));
  expect(calls).toEqual(['answered 200', 'settled']);
});

test('a stream without end nobody reads: the onAbort policy once the read-out found no end in time', async () => {
  const { calls, settlement, settled } = recorder();
  watchBody(new Response(source(['first '], true)), settlement, settled, { graceMs: UNREAD_GRACE_MS });
  await jest.advanceTimersByTimeAsync(UNREAD_GRACE_MS + UNREAD_DRAIN_MS - 100);
  expect(calls).toEqual([]);
  await jest.advanceTimersByTimeAsync(200);
  expect(calls).toEqual(['aborted', 'settled']);
});

test('a client known gone (graceMs 0): read out at once', async () => {
  const { calls, settlement, settled } = recorder();
  watchBody(new Response(source(CHUNKS)), settlement, settled, { graceMs: 0 });
  await jest.advanceTimersByTimeAsync(1);
  expect(calls).toEqual(['answered 200', 'settled']);
});

test('without an unread watch (Node: the response closes) nothing is read out', async () => {
  const { calls, settlement, settled } = recorder();
  watchBody(new Response(source(CHUNKS)), settlement, settled);
  await jest.advanceTimersByTimeAsync(10 * (UNREAD_GRACE_MS + UNREAD_DRAIN_MS));
  expect(calls).toEqual([]);
});

test('settleResponse reads out an unread body only for a runtime that may drop it (Workers), never under Next on Node', async () => {
  const workers = recorder();
  settleResponse(workers.settlement, new Response(source(CHUNKS, true)), workers.settled, false);
  const next = recorder();
  settleResponse(next.settlement, new Response(source(CHUNKS, true)), next.settled, false, false);
  await jest.advanceTimersByTimeAsync(UNREAD_GRACE_MS + UNREAD_DRAIN_MS + 1_000);
  expect(workers.calls).toEqual(['aborted', 'settled']);
  // Node reads the body or cancels it when the client leaves: it is left to Node, however long it waits.
  expect(next.calls).toEqual([]);
});
