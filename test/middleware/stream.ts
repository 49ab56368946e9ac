/** The chunks a harness `stream` handler writes (HandlerSpec.stream). */
export const STREAM_FIRST = 'first\n';
export const STREAM_LAST = 'last\n';

/** A body that writes STREAM_FIRST at once, then, when `rest()` says so, STREAM_LAST and its end ('end') or an error ('fail'). */
export function streamBody(rest: () => Promise<'end' | 'fail'>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(STREAM_FIRST));
      void rest().then((how) => {
        if (how === 'fail') {
          controller.error(new Error('stream broke'));
          return;
        }
        try {
          controller.enqueue(encoder.encode(STREAM_LAST));
          controller.close();
        } catch {
          // cancelled: the client left
        }
      });
    },
  });
}
