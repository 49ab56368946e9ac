import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execute, GraphQLError, parse, validate, type DocumentNode, type ExecutionResult } from 'graphql';
import { loadCatalogFile, type Catalog } from './catalog';
import { defaultCatalog } from './default-catalog';
import { EmulatorError } from './errors';
import { createRootValue, loadSchema } from './schema';
import { EmulatorState, type EmulatorClock, type EmulatorStats } from './state';

export interface EmulatorOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** The key clients must send as X-API-KEY. Default 'emulator-server-key'. */
  apiKey?: string;
  /** A catalog object or the path of a catalog JSON file. Default: the Revvenu demo (defaultCatalog). */
  catalog?: Catalog | string;
  /** Added to every POST /graphql before it is answered. Default 0. */
  latencyMs?: number;
  /** Share of POST /graphql that fail (0..1), half as HTTP 503, half as a destroyed connection. Default 0. */
  failureRate?: number;
  /** Seed of the fault-injection PRNG, so a run's faults repeat. Default 1. */
  seed?: number;
  /** The clock the emulator starts from (default Date.now); move it with emulator.clock. */
  now?: () => number;
}

export interface EmulatorFaults {
  latencyMs?: number;
  failureRate?: number;
}

export interface Emulator {
  /** http://HOST:PORT/graphql */
  readonly url: string;
  readonly apiKey: string;
  stop(): Promise<void>;
  /** State back to the catalog, stats zeroed, fault PRNG reseeded; fault settings and the clock are kept. */
  reset(): void;
  stats(): EmulatorStats;
  readonly state: EmulatorState;
  readonly clock: EmulatorClock;
  setFaults(faults: EmulatorFaults): void;
}

const MAX_BODY_BYTES = 1_048_576;
const DOCUMENT_CACHE_SIZE = 1_000;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;
const UNAUTHORIZED = JSON.stringify({ data: null, errors: [{ message: 'Unauthorized', extensions: { code: 'UNAUTHENTICATED' } }] });
const UNAVAILABLE = JSON.stringify({ errors: [{ message: 'Service Unavailable', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });

function checkNumber(name: string, value: unknown, min: number, max: number, integer: boolean): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new TypeError(
      `${JSON.stringify(value)} is not a valid value for ${name}. Please choose ${integer ? 'an integer' : 'a number'} from ${min} to ${max}.`,
    );
  }
}

function checkFaults(faults: EmulatorFaults): void {
  checkNumber('latencyMs', faults.latencyMs, 0, 600_000, false);
  checkNumber('failureRate', faults.failureRate, 0, 1, false);
}

function checkOptions(options: EmulatorOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('startEmulator() takes an options object, e.g. startEmulator({ port: 0 }).');
  checkNumber('port', options.port, 0, 65_535, true);
  checkNumber('seed', options.seed, -(2 ** 31), 2 ** 32, true);
  checkFaults(options);
  for (const key of ['host', 'apiKey'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new TypeError(`${JSON.stringify(value)} is not a valid value for ${key}. Please pass a non-empty string.`);
    }
  }
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function returning milliseconds since the epoch, e.g. () => Date.now().');
  const catalog = options.catalog;
  if (catalog !== undefined && typeof catalog !== 'string' && (typeof catalog !== 'object' || catalog === null)) {
    throw new TypeError('catalog must be a Catalog object or the path of a catalog JSON file.');
  }
}

/** mulberry32: small, fast and good enough to decide which requests fail. */
function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return function random(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function createClock(base: () => number): EmulatorClock {
  let offset = 0;
  function check(name: string, ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new TypeError(`clock.${name}() takes milliseconds as a finite number, got ${String(ms)}.`);
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

type Prepared = { document: DocumentNode } | { status: number; body: string };

function errorBody(errors: readonly GraphQLError[], code: string): string {
  return JSON.stringify({
    errors: errors.map((e) => {
      const json = e.toJSON();
      return { ...json, extensions: { ...json.extensions, code } };
    }),
  });
}

/** Starts a Stigg-compatible GraphQL server on localhost. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  checkOptions(options);
  const apiKey = options.apiKey ?? 'emulator-server-key';
  const host = options.host ?? '127.0.0.1';
  const seed = options.seed ?? 1;
  const catalog = typeof options.catalog === 'string' ? loadCatalogFile(options.catalog) : options.catalog ?? defaultCatalog;
  const clock = createClock(options.now ?? Date.now);
  const state = new EmulatorState(catalog, clock);
  const schema = loadSchema();
  const rootValue = createRootValue(state, schema);
  const documents = new Map<string, Prepared>();
  let latencyMs = options.latencyMs ?? 0;
  let failureRate = options.failureRate ?? 0;
  let random = createRandom(seed);
  const timers = new Set<NodeJS.Timeout>();

  function prepare(query: string): Prepared {
    let prepared = documents.get(query);
    if (prepared !== undefined) return prepared;
    let document: DocumentNode | undefined;
    try {
      document = parse(query);
    } catch (error) {
      prepared = { status: 400, body: errorBody([error as GraphQLError], 'GRAPHQL_PARSE_FAILED') };
    }
    if (document !== undefined) {
      const errors = validate(schema, document);
      prepared = errors.length > 0 ? { status: 400, body: errorBody(errors, 'GRAPHQL_VALIDATION_FAILED') } : { document };
    }
    if (documents.size >= DOCUMENT_CACHE_SIZE) documents.delete(documents.keys().next().value as string);
    documents.set(query, prepared as Prepared);
    return prepared as Prepared;
  }

  function send(res: ServerResponse, status: number, body: string, headers?: Record<string, string>): void {
    res.writeHead(status, { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  }

  function badRequest(res: ServerResponse, message: string): void {
    send(res, 400, JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
  }

  function readBody(req: IncomingMessage): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', function onData(chunk: Buffer) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          resolve(null);
          req.removeAllListeners('data');
          req.resume();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', function onEnd() {
        resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
      });
      req.on('error', reject);
    });
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(function delayed() {
        timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      timers.add(timer);
    });
  }

  function authorized(req: IncomingMessage): boolean {
    const header = req.headers['x-api-key'];
    if (header !== undefined) return header === apiKey;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    return q !== -1 && new URLSearchParams(url.slice(q + 1)).get('apiKey') === apiKey;
  }

  function respond(res: ServerResponse, result: ExecutionResult): void {
    if (!('data' in result)) {
      send(res, 400, errorBody(result.errors ?? [], 'BAD_USER_INPUT'));
      return;
    }
    if (result.errors !== undefined) {
      const errors = result.errors.map((e) => {
        const json = e.toJSON();
        if (e.originalError instanceof EmulatorError || e.originalError === undefined) return json;
        return { ...json, extensions: { ...json.extensions, code: 'INTERNAL_SERVER_ERROR' } };
      });
      send(res, 200, JSON.stringify({ data: result.data, errors }));
      return;
    }
    send(res, 200, JSON.stringify(result));
  }

  async function handleGraphql(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const counters = state.counters;
    counters.requests += 1;
    const draw = failureRate > 0 ? random() : 1;
    const body = await readBody(req);
    if (latencyMs > 0) await delay(latencyMs);
    if (draw < failureRate / 2) {
      state.counters.faults.dropped += 1;
      req.socket.destroy();
      return;
    }
    if (draw < failureRate) {
      state.counters.faults.http5xx += 1;
      send(res, 503, UNAVAILABLE);
      return;
    }
    if (!authorized(req)) {
      send(res, 401, UNAUTHORIZED);
      return;
    }
    if (body === null) {
      send(res, 413, JSON.stringify({ errors: [{ message: `Request body larger than ${MAX_BODY_BYTES} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }));
      return;
    }
    let payload: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      payload = JSON.parse(body) as typeof payload;
    } catch {
      badRequest(res, 'Request body is not valid JSON');
      return;
    }
    if (typeof payload !== 'object' || payload === null || typeof payload.query !== 'string' || payload.query.length === 0) {
      badRequest(res, 'POST body must be JSON with a "query" string (and optional "variables" and "operationName")');
      return;
    }
    const prepared = prepare(payload.query);
    if (!('document' in prepared)) {
      send(res, prepared.status, prepared.body);
      return;
    }
    const variables = payload.variables ?? undefined;
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
      badRequest(res, '"variables" must be an object');
      return;
    }
    const result = execute({
      schema,
      document: prepared.document,
      rootValue,
      variableValues: variables as Record<string, unknown> | null | undefined,
      operationName: typeof payload.operationName === 'string' ? payload.operationName : undefined,
    });
    respond(res, 'then' in result ? await result : result);
  }

  function handleCheckout(id: string, res: ServerResponse): void {
    let subscription: Record<string, unknown> | null;
    try {
      subscription = state.completeCheckout(decodeURIComponent(id));
    } catch (error) {
      send(res, 409, JSON.stringify({ status: 'failed', message: (error as Error).message }));
      return;
    }
    if (subscription === null) {
      send(res, 404, JSON.stringify({ status: 'not-found', message: 'No pending checkout with this id (already completed, or reset).' }));
      return;
    }
    send(res, 200, JSON.stringify({ status: 'completed', subscriptionId: subscription.refId, subscriptionStatus: subscription.status }));
  }

  const server = createServer(function stiggEmulator(req, res) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/graphql') {
      if (req.method !== 'POST') {
        send(res, 405, JSON.stringify({ errors: [{ message: 'Use POST /graphql', extensions: { code: 'METHOD_NOT_ALLOWED' } }] }), { allow: 'POST' });
        return;
      }
      handleGraphql(req, res).catch(function requestFailed(error: unknown) {
        if (res.headersSent) res.destroy();
        else send(res, 500, JSON.stringify({ errors: [{ message: (error as Error).message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      });
      return;
    }
    if (req.method === 'GET' && path === '/stats') {
      send(res, 200, JSON.stringify(state.stats()));
      return;
    }
    if (req.method === 'GET' && path.startsWith('/checkout/')) {
      handleCheckout(path.slice('/checkout/'.length), res);
      return;
    }
    send(res, 404, JSON.stringify({ errors: [{ message: `Not found: ${path}. The API is POST /graphql.`, extensions: { code: 'NOT_FOUND' } }] }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  state.baseUrl = origin;

  let stopping: Promise<void> | undefined;
  return {
    url: `${origin}/graphql`,
    apiKey,
    state,
    clock,
    stats: () => state.stats(),
    reset(): void {
      state.reset();
      random = createRandom(seed);
    },
    setFaults(faults: EmulatorFaults): void {
      if (typeof faults !== 'object' || faults === null) throw new TypeError('setFaults() takes { latencyMs?, failureRate? }.');
      checkFaults(faults);
      latencyMs = faults.latencyMs ?? latencyMs;
      failureRate = faults.failureRate ?? failureRate;
    },
    stop(): Promise<void> {
      stopping ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
