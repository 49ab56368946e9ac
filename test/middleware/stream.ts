/** The chunks a harness `stream` handler writes (HandlerSpec.stream). */
export const STREAM_FIRST = 'first\n';
export const STREAM_LAST = 'last\n';
