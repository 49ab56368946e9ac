const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function statusOf(error: Record<string, unknown>): number | undefined {
  const response = error['response'] as Record<string, unknown> | undefined;
  const status = error['status'] ?? error['statusCode'] ?? response?.['status'];
  return typeof status === 'number' ? status : undefined;
}

/**
 * Whether retrying may succeed: the error says so (`transient`), or, lacking that, it looks like a
 * network failure, a timeout, a 429 or a 5xx.
 */
export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const record = error as Record<string, unknown>;
  if (typeof record['transient'] === 'boolean') return record['transient'];
  const status = statusOf(record);
  if (status !== undefined) return status === 429 || status >= 500;
  const name = record['name'];
  if (name === 'AbortError' || name === 'TimeoutError' || name === 'FetchError') return true;
  const cause = record['cause'] as Record<string, unknown> | undefined;
  const code = record['code'] ?? cause?.['code'];
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  return error instanceof TypeError && /fetch failed|network|socket/i.test(error.message);
}
