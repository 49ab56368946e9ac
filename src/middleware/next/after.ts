// next has no exports map: Node's ESM loader needs the file name.
import * as nextServer from 'next/server.js';
import type { WaitUntil } from '../fetch-host';

/** Next's after() where this Next has it (a call outside a request scope is skipped: the usage buffer's batching delivers). */
export function afterResponse(): WaitUntil | undefined {
  const after = (nextServer as { after?: (task: Promise<unknown>) => void }).after;
  if (typeof after !== 'function') return undefined;
  return {
    // Node reads the body or cancels it when the client leaves: nothing to read out (./fetch-body).
    dropsUnreadBodies: false,
    waitUntil(promise) {
      try {
        after(promise);
      } catch {
        // Outside a request scope (a handler called directly, as in a unit test): nothing to wait for.
      }
    },
  };
}
