import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execute, parse, validate, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import { loadCatalogFile } from './catalog';
import { defaultCatalog } from './default-catalog';
import { ADMIN_PREFIX, handleAdmin } from './admin';
import { edgeAnswer } from './edge';
import { EmulatorError } from './errors';
import { authorized, errorJson, MAX_BODY_BYTES, preflight, readBody, send } from './http';
import { processWarning } from '../util/process-warning';
import { admitHost, admitOrigin } from './origins';
import { checkFaults, checkOptions, createClock, createRandom, type EmulatorFaults, type EmulatorOptions } from './options';
import { createRootValue, loadSchema } from './schema';
import { EmulatorState, type EmulatorClock, type EmulatorStats } from './state';
import { createWebhookSender, type WebhookSender } from './webhooks';

export type { EmulatorFaults, EmulatorOptions, EmulatorWebhooks } from './options';

export interface Emulator {
  /** http://HOST:PORT/graphql */
  readonly url: string;
  readonly apiKey: string;
  /** Stops listening; pending webhooks are not retried any more. */
  stop(): Promise<void>;
  /** State back to the catalog, stats zeroed, fault PRNG reseeded; fault settings and the clock are kept. */
  reset(): void;
  stats(): EmulatorStats;
  readonly state: EmulatorState;
  readonly clock: EmulatorClock;
  setFaults(faults: EmulatorFaults): void;
  /** Resolves when every webhook sent so far is delivered or given up (immediately without webhooks). */
  webhooksSettled(): Promise<void>;
}

const DOCUMENT_CACHE_SIZE = 1_000;
const UNAUTHORIZED = JSON.stringify({
  data: null,
  errors: [{ message: 'Unauthorized', extensions: { code: 'UNAUTHENTICATED' } }],
});
const UNAVAILABLE = errorJson('Service Unavailable', 'SERVICE_UNAVAILABLE');

type Prepared = { document: DocumentNode } | { status: number; body: string };

function errorBody(errors: readonly GraphQLError[], code: string): string {
  return JSON.stringify({
    errors: errors.map((e) => {
      const json = e.toJSON();
      return { ...json, extensions: { ...json.extensions, code } };
    }),
  });
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Starts a Stigg-compatible GraphQL server on localhost. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  checkOptions(options);
  const apiKey = options.apiKey ?? 'emulator-server-key';
  const host = options.host ?? '127.0.0.1';
  if (options.apiKey === undefined && !LOOPBACK.has(host)) {
    processWarning(
      `The emulator listens on ${host} with the well-known default API key: anyone who reaches it can read /stats and provision customers. Pass apiKey (CLI: --api-key), or bind to 127.0.0.1.`,
      'STIGG_GATE_EMULATOR_EXPOSED',
    );
  }
  const loopbackOnly = LOOPBACK.has(host);
  const seed = options.seed ?? 1;
  const catalog = typeof options.catalog === 'string' ? loadCatalogFile(options.catalog) : (options.catalog ?? defaultCatalog);
  const clock = createClock(options.now ?? Date.now);
  const state = new EmulatorState(catalog, clock);
  state.deniedReasonOverride = options.accessDeniedReason ?? null;
  const webhooks: WebhookSender | null = options.webhooks === undefined ? null : createWebhookSender(options.webhooks, state);
  if (webhooks !== null) {
    state.onChange = (event) => webhooks.send(event);
    state.onCheckReport = (report) => webhooks.sendCheck(report);
  }
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
    state.counters.requests += 1;
    const request = state.counters.requests;
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
    if (!authorized(req, apiKey)) {
      send(res, 401, UNAUTHORIZED);
      return;
    }
    if (body === null) {
      send(res, 413, errorJson(`Request body larger than ${MAX_BODY_BYTES} bytes`, 'PAYLOAD_TOO_LARGE'));
      return;
    }
    let payload: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      payload = JSON.parse(body) as typeof payload;
    } catch {
      send(res, 400, errorJson('Request body is not valid JSON', 'BAD_REQUEST'));
      return;
    }
    if (typeof payload !== 'object' || payload === null || typeof payload.query !== 'string' || payload.query.length === 0) {
      send(
        res,
        400,
        errorJson('POST body must be JSON with a "query" string (and optional "variables" and "operationName")', 'BAD_REQUEST'),
      );
      return;
    }
    const prepared = prepare(payload.query);
    if (!('document' in prepared)) {
      send(res, prepared.status, prepared.body);
      return;
    }
    const variables = payload.variables ?? undefined;
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
      send(res, 400, errorJson('"variables" must be an object', 'BAD_REQUEST'));
      return;
    }
    const result = execute({
      schema,
      document: prepared.document,
      rootValue,
      contextValue: { request },
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
      send(
        res,
        404,
        JSON.stringify({
          status: 'not-found',
          message: 'No pending checkout with this id (already completed, or reset).',
        }),
      );
      return;
    }
    send(
      res,
      200,
      JSON.stringify({
        status: 'completed',
        subscriptionId: subscription.refId,
        subscriptionStatus: subscription.status,
      }),
    );
  }

  function resetState(): void {
    state.reset();
    random = createRandom(seed);
  }

  const server = createServer(function stiggEmulator(req, res) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!admitHost(req, res, loopbackOnly) || !admitOrigin(req, res, options.cors)) return;
    if (req.method === 'OPTIONS') {
      preflight(req, res);
      return;
    }
    if (path === '/graphql') {
      if (req.method !== 'POST') {
        send(res, 405, errorJson('Use POST /graphql', 'METHOD_NOT_ALLOWED'), { allow: 'POST, OPTIONS' });
        return;
      }
      handleGraphql(req, res).catch(function requestFailed(error: unknown) {
        if (res.headersSent) res.destroy();
        else send(res, 500, errorJson((error as Error).message, 'INTERNAL_SERVER_ERROR'));
      });
      return;
    }
    if (req.method === 'GET' && path === '/stats') {
      if (authorized(req, apiKey)) send(res, 200, JSON.stringify(state.stats()));
      else send(res, 401, UNAUTHORIZED);
      return;
    }
    if (req.method === 'GET' && path.startsWith('/v1/')) {
      if (!authorized(req, apiKey)) {
        send(res, 401, UNAUTHORIZED);
        return;
      }
      edgeAnswer(path, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)), state, schema, rootValue).then(
        (body) =>
          body === null
            ? send(
                res,
                404,
                errorJson(
                  `Not found: ${path}. The emulator serves the edge API's entitlements, subscriptions and SDK configuration.`,
                  'NOT_MODELLED',
                ),
              )
            : send(res, 200, JSON.stringify(body)),
        (error: unknown) => send(res, 500, errorJson((error as Error).message, 'INTERNAL_SERVER_ERROR')),
      );
      return;
    }
    if (path.startsWith(ADMIN_PREFIX)) {
      if (!authorized(req, apiKey)) send(res, 401, UNAUTHORIZED);
      else
        handleAdmin(req, res, path, state, resetState).catch(function adminFailed(error: unknown) {
          if (res.headersSent) res.destroy();
          else send(res, 500, errorJson((error as Error).message, 'INTERNAL_SERVER_ERROR'));
        });
      return;
    }
    if (req.method === 'GET' && path.startsWith('/checkout/')) {
      handleCheckout(path.slice('/checkout/'.length), res);
      return;
    }
    send(res, 404, errorJson(`Not found: ${path}. The API is POST /graphql.`, 'NOT_FOUND'));
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
    reset: resetState,
    setFaults(faults: EmulatorFaults): void {
      checkFaults(faults, 'setFaults()');
      latencyMs = faults.latencyMs ?? latencyMs;
      failureRate = faults.failureRate ?? failureRate;
      if (faults.accessDeniedReason !== undefined) state.deniedReasonOverride = faults.accessDeniedReason;
    },
    webhooksSettled: () => webhooks?.settled() ?? Promise.resolve(),
    stop(): Promise<void> {
      stopping ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        const closed = new Promise<void>((done) => server.close(() => done()));
        server.closeAllConnections();
        Promise.all([closed, webhooks?.stop()]).then(
          () => resolve(),
          () => resolve(),
        );
      });
      return stopping;
    },
  };
}
