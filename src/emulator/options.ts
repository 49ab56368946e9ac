import { rejectUnknownOptions } from '../util/unknown-options';
import type { Catalog } from './catalog-types';
import type { EmulatorClock } from './store';
import { checkCors, type CorsOrigins } from './origins';

export interface EmulatorFaults {
  /** Added to every POST /graphql before it is answered. Default 0. */
  latencyMs?: number;
  /** Share of POST /graphql that fail (0..1), half as HTTP 503, half as a destroyed connection. Default 0. */
  failureRate?: number;
  /**
   * Every denied entitlement answers this accessDeniedReason instead of the real one, e.g.
   * 'EntitlementNotFound', a reason Stigg's newer API answers and this schema does not list. null: the real one.
   */
  accessDeniedReason?: string | null;
}

export interface EmulatorWebhooks {
  /** Where the emulator POSTs Stigg-shaped webhooks (entitlements.updated, subscription.*). */
  url: string;
  /** Sent as the Stigg-Webhooks-Secret header, as Stigg authenticates its webhooks. */
  secret?: string;
}

export interface EmulatorOptions extends EmulatorFaults {
  /** Default 0: a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** The key clients must send as X-API-KEY (GET /stats too). Default 'emulator-server-key'. */
  apiKey?: string;
  /** A catalog object or the path of a catalog JSON file. Default: the Revvenu demo (defaultCatalog). */
  catalog?: Catalog | string;
  /** Seed of the fault-injection PRNG, so a run's faults repeat. Default 1. */
  seed?: number;
  /** The clock the emulator starts from (default Date.now); move it with emulator.clock. */
  now?: () => number;
  /** POST webhooks when a subscription or a promotional grant changes a customer's entitlements. */
  webhooks?: EmulatorWebhooks;
  /**
   * Origins of the pages that may call the emulator from a browser (Stigg's JS SDKs), or '*'. Default
   * none: a request carrying another Origin is refused (403), and no answer carries CORS headers.
   */
  cors?: CorsOrigins;
}

const KNOWN_OPTIONS = [
  'port',
  'host',
  'apiKey',
  'catalog',
  'latencyMs',
  'failureRate',
  'accessDeniedReason',
  'seed',
  'now',
  'webhooks',
  'cors',
] as const;
const KNOWN_FAULTS = ['latencyMs', 'failureRate', 'accessDeniedReason'] as const;

function checkNumber(name: string, value: unknown, min: number, max: number, integer: boolean): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new TypeError(
      `${JSON.stringify(value)} is not a valid value for ${name}. Please choose ${integer ? 'an integer' : 'a number'} from ${min} to ${max}.`,
    );
  }
}

export function checkFaults(faults: EmulatorFaults, where: string): void {
  if (typeof faults !== 'object' || faults === null)
    throw new TypeError(`${where} takes { latencyMs?, failureRate?, accessDeniedReason? }.`);
  if (where === 'setFaults()') rejectUnknownOptions(faults, KNOWN_FAULTS, where);
  checkNumber('latencyMs', faults.latencyMs, 0, 600_000, false);
  checkNumber('failureRate', faults.failureRate, 0, 1, false);
  const reason = faults.accessDeniedReason;
  if (reason !== undefined && reason !== null && (typeof reason !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(reason))) {
    throw new TypeError(
      `${JSON.stringify(reason)} is not a valid value for accessDeniedReason. Please pass a reason name such as "EntitlementNotFound", or null.`,
    );
  }
}

export function checkOptions(options: EmulatorOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('startEmulator() takes an options object, e.g. startEmulator({ port: 0 }).');
  rejectUnknownOptions(options, KNOWN_OPTIONS, 'startEmulator()');
  checkNumber('port', options.port, 0, 65_535, true);
  checkNumber('seed', options.seed, -(2 ** 31), 2 ** 32, true);
  checkFaults(options, 'startEmulator()');
  for (const key of ['host', 'apiKey'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new TypeError(`${JSON.stringify(value)} is not a valid value for ${key}. Please pass a non-empty string.`);
    }
  }
  if (options.now !== undefined && typeof options.now !== 'function')
    throw new TypeError('now must be a function returning milliseconds since the epoch, e.g. () => Date.now().');
  const catalog = options.catalog;
  if (catalog !== undefined && typeof catalog !== 'string' && (typeof catalog !== 'object' || catalog === null)) {
    throw new TypeError('catalog must be a Catalog object or the path of a catalog JSON file.');
  }
  checkCors(options.cors);
  const webhooks = options.webhooks;
  if (webhooks !== undefined) {
    if (typeof webhooks !== 'object' || webhooks === null)
      throw new TypeError('webhooks must be { url, secret? }, e.g. { url: "http://127.0.0.1:3000/stigg/webhooks" }.');
    rejectUnknownOptions(webhooks, ['url', 'secret'], 'startEmulator({ webhooks })');
    let url: URL | undefined;
    try {
      url = typeof webhooks.url === 'string' ? new URL(webhooks.url) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new TypeError(`${JSON.stringify(webhooks.url)} is not a valid value for webhooks.url. Please pass an http(s) URL.`);
    }
    if (webhooks.secret !== undefined && (typeof webhooks.secret !== 'string' || webhooks.secret.length === 0)) {
      throw new TypeError('webhooks.secret must be a non-empty string when given.');
    }
  }
}

/** mulberry32: small, fast and good enough to decide which requests fail. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return function random(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function createClock(base: () => number): EmulatorClock {
  let offset = 0;
  function check(name: string, ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms))
      throw new TypeError(`clock.${name}() takes milliseconds as a finite number, got ${String(ms)}.`);
  }
  return {
    now: () => base() + offset,
    set(ms: number): void {
      check('set', ms);
      offset = ms - base();
    },
    advance(ms: number): void {
      check('advance', ms);
      offset += ms;
    },
  };
}
