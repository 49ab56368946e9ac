import type { Logger } from '../core';
import { rejectUnknownOptions } from '../util/unknown-options';
import type { FetchLike, TransportConfig } from './transport';

export const DEFAULT_API_URL = 'https://api.stigg.io/graphql';
/** Environment variables read by `Stigg.createClient()` when the key (or the URL) is not passed. */
export const API_KEY_ENV = 'STIGG_SERVER_API_KEY';
export const API_URL_ENV = 'STIGG_API_URL';

export interface StiggClientOptions {
  /** The environment's server API key; sent as the X-API-KEY header and nowhere else. */
  apiKey: string;
  /** Default `https://api.stigg.io/graphql` (`Stigg.createClient()`: STIGG_API_URL first). */
  apiUrl?: string | undefined;
  /** Per attempt, in ms. Default 5000. */
  timeoutMs?: number | undefined;
  /** Extra attempts after a transient failure (queries and idempotent mutations only). Default 2. */
  maxRetries?: number | undefined;
  /** Backoff base: attempt n waits a random time in [0, base * 2^n), capped by maxRetryDelayMs. Default 100. */
  retryBaseDelayMs?: number | undefined;
  /** Longest wait between attempts, also for Retry-After: a longer Retry-After ends the retries. Default 5000. */
  maxRetryDelayMs?: number | undefined;
  /** Default the global fetch. */
  fetch?: FetchLike | undefined;
  /** Receives a debug line per retry. Default: nothing is logged. */
  logger?: Logger | undefined;
}

export type StiggCreateClientOptions = Omit<StiggClientOptions, 'apiKey'>;

export interface Configuration extends TransportConfig {
  maxRetries: number;
  retryBaseDelayMs: number;
  maxRetryDelayMs: number;
  logger: Logger | undefined;
}

const OPTION_KEYS: ReadonlyArray<keyof StiggClientOptions> = [
  'apiKey',
  'apiUrl',
  'timeoutMs',
  'maxRetries',
  'retryBaseDelayMs',
  'maxRetryDelayMs',
  'fetch',
  'logger',
];

function invalidOption(name: string, expected: string): never {
  throw new TypeError(`StiggClient: the ${name} option must be ${expected}.`);
}

/** The global fetch, called unbound: workerd rejects a fetch invoked as another object's method. */
function globalFetch(input: string, init?: RequestInit): Promise<Response> {
  return fetch(input, init);
}

export function configure(options: StiggClientOptions): Configuration {
  if (typeof options === 'string') {
    throw new TypeError('new StiggClient() takes an options object: new StiggClient({ apiKey }) or Stigg.createClient(apiKey).');
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `new StiggClient() needs an options object with at least { apiKey } (or use Stigg.createClient(), which reads ${API_KEY_ENV}).`,
    );
  }
  rejectUnknownOptions(options, OPTION_KEYS, 'StiggClient');
  const { apiKey } = options;
  // Checked here so that fetch never builds an "invalid header value" error quoting the key.
  if (typeof apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(apiKey)) {
    invalidOption(
      'apiKey',
      `a non-empty string of printable ASCII without spaces: the server API key from Settings > Account > Environments in Stigg, usually kept in ${API_KEY_ENV}`,
    );
  }
  const apiUrl = options.apiUrl ?? DEFAULT_API_URL;
  let parsed: URL | undefined;
  try {
    parsed = new URL(apiUrl);
  } catch {
    parsed = undefined;
  }
  if (typeof apiUrl !== 'string' || (parsed?.protocol !== 'https:' && parsed?.protocol !== 'http:')) {
    invalidOption('apiUrl', `an absolute http(s) URL such as ${DEFAULT_API_URL}`);
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2 ** 31 - 1) {
    invalidOption('timeoutMs', 'a positive number of milliseconds (at most 2147483647)');
  }
  const maxRetries = options.maxRetries ?? 2;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 10) invalidOption('maxRetries', 'an integer from 0 to 10');
  const retryBaseDelayMs = options.retryBaseDelayMs ?? 100;
  if (typeof retryBaseDelayMs !== 'number' || !Number.isFinite(retryBaseDelayMs) || retryBaseDelayMs < 0) {
    invalidOption('retryBaseDelayMs', 'a number of milliseconds >= 0');
  }
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 5000;
  if (typeof maxRetryDelayMs !== 'number' || !Number.isFinite(maxRetryDelayMs) || maxRetryDelayMs < 0 || maxRetryDelayMs > 2 ** 31 - 1) {
    invalidOption('maxRetryDelayMs', 'a number of milliseconds from 0 to 2147483647');
  }
  if (options.fetch === undefined && typeof globalThis.fetch !== 'function') {
    invalidOption('fetch', 'given: this runtime has no global fetch (Node >= 20, workerd and browsers have one)');
  }
  const fetchImpl = options.fetch ?? globalFetch;
  if (typeof fetchImpl !== 'function')
    invalidOption('fetch', 'a fetch-compatible function (the global fetch of Node >= 20 is the default)');
  const { logger } = options;
  if (logger !== undefined && (typeof logger?.warn !== 'function' || typeof logger.error !== 'function')) {
    invalidOption('logger', 'an object with warn() and error() methods (debug() and info() are optional)');
  }
  return { apiKey, apiUrl, timeoutMs, maxRetries, retryBaseDelayMs, maxRetryDelayMs, fetch: fetchImpl, logger };
}

/** process.env where there is one (Node; workerd with nodejs_compat), else nothing. */
function environment(): Record<string, string | undefined> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env ?? {};
}

/**
 * The options of `Stigg.createClient(apiKey?, options?)`: a key not passed comes from STIGG_SERVER_API_KEY,
 * an apiUrl not passed from STIGG_API_URL (else Stigg's production URL).
 */
export function resolveCreateClientOptions(apiKey: string | undefined, options: StiggCreateClientOptions): StiggClientOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('Stigg.createClient(apiKey?, options?): options must be an object such as { timeoutMs: 3000 }.');
  }
  rejectUnknownOptions(
    options,
    OPTION_KEYS.filter((key) => key !== 'apiKey'),
    'Stigg.createClient()',
  );
  const env = environment();
  let key = apiKey;
  if (key === undefined) {
    key = env[API_KEY_ENV];
    if (key === undefined || key.trim() === '') {
      throw new TypeError(
        `Stigg.createClient(): no API key. Set ${API_KEY_ENV} to the server API key of your Stigg environment ` +
          `(Settings > Account > Environments), or pass it: Stigg.createClient(apiKey).${key === undefined ? '' : ` ${API_KEY_ENV} is blank.`}`,
      );
    }
    key = key.trim();
  } else if (typeof key !== 'string' || key.trim() === '') {
    throw new TypeError(
      `Stigg.createClient(apiKey): the API key is ${typeof key === 'string' ? 'blank' : `a ${typeof key}`}. ` +
        `Pass the server API key of your Stigg environment, or call Stigg.createClient() to read it from ${API_KEY_ENV}.`,
    );
  }
  let { apiUrl } = options;
  if (apiUrl === undefined) {
    const fromEnv = env[API_URL_ENV]?.trim();
    if (fromEnv !== undefined && fromEnv !== '') {
      if (!/^https?:\/\/./.test(fromEnv))
        throw new TypeError(`${API_URL_ENV} must be an absolute http(s) URL such as ${DEFAULT_API_URL} (got "${fromEnv}").`);
      apiUrl = fromEnv;
    }
  }
  return { ...options, apiKey: key, ...(apiUrl === undefined ? {} : { apiUrl }) };
}
