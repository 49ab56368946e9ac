"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.startEmulator = startEmulator;
const node_http_1 = require("node:http");
const graphql_1 = require("graphql");
const catalog_1 = require("./catalog");
const default_catalog_1 = require("./default-catalog");
const errors_1 = require("./errors");
const schema_1 = require("./schema");
const state_1 = require("./state");
const MAX_BODY_BYTES = 1_048_576;
const DOCUMENT_CACHE_SIZE = 1_000;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const UNAUTHORIZED = JSON.stringify({ data: null, errors: [{ message: 'Unauthorized', extensions: { code: 'UNAUTHENTICATED' } }] });
const UNAVAILABLE = JSON.stringify({ errors: [{ message: 'Service Unavailable', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
function checkNumber(name, value, min, max, integer) {
    if (value === undefined)
        return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
        throw new TypeError(`${JSON.stringify(value)} is not a valid value for ${name}. Please choose ${integer ? 'an integer' : 'a number'} from ${min} to ${max}.`);
    }
}
function checkFaults(faults) {
    checkNumber('latencyMs', faults.latencyMs, 0, 600_000, false);
    checkNumber('failureRate', faults.failureRate, 0, 1, false);
}
function checkOptions(options) {
    if (typeof options !== 'object' || options === null)
        throw new TypeError('startEmulator() takes an options object, e.g. startEmulator({ port: 0 }).');
    checkNumber('port', options.port, 0, 65_535, true);
    checkNumber('seed', options.seed, -(2 ** 31), 2 ** 32, true);
    checkFaults(options);
    for (const key of ['host', 'apiKey']) {
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
}
/** mulberry32: small, fast and good enough to decide which requests fail. */
function createRandom(seed) {
    let a = seed >>> 0;
    return function random() {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
}
function createClock(base) {
    let offset = 0;
    function check(name, ms) {
        if (typeof ms !== 'number' || !Number.isFinite(ms))
            throw new TypeError(`clock.${name}() takes milliseconds as a finite number, got ${String(ms)}.`);
    }
    return {
        now: () => base() + offset,
        set(ms) {
            check('set', ms);
            offset = ms - base();
        },
        advance(ms) {
            check('advance', ms);
            offset += ms;
        },
    };
}
function errorBody(errors, code) {
    return JSON.stringify({
        errors: errors.map((e) => {
            const json = e.toJSON();
            return { ...json, extensions: { ...json.extensions, code } };
        }),
    });
}
/** Starts a Stigg-compatible GraphQL server on localhost. */
async function startEmulator(options = {}) {
    checkOptions(options);
    const apiKey = options.apiKey ?? 'emulator-server-key';
    const host = options.host ?? '127.0.0.1';
    const seed = options.seed ?? 1;
    const catalog = typeof options.catalog === 'string' ? (0, catalog_1.loadCatalogFile)(options.catalog) : options.catalog ?? default_catalog_1.defaultCatalog;
    const clock = createClock(options.now ?? Date.now);
    const state = new state_1.EmulatorState(catalog, clock);
    const schema = (0, schema_1.loadSchema)();
    const rootValue = (0, schema_1.createRootValue)(state);
    const documents = new Map();
    let latencyMs = options.latencyMs ?? 0;
    let failureRate = options.failureRate ?? 0;
    let random = createRandom(seed);
    const timers = new Set();
    function prepare(query) {
        let prepared = documents.get(query);
        if (prepared !== undefined)
            return prepared;
        let document;
        try {
            document = (0, graphql_1.parse)(query);
        }
        catch (error) {
            prepared = { status: 400, body: errorBody([error], 'GRAPHQL_PARSE_FAILED') };
        }
        if (document !== undefined) {
            const errors = (0, graphql_1.validate)(schema, document);
            prepared = errors.length > 0 ? { status: 400, body: errorBody(errors, 'GRAPHQL_VALIDATION_FAILED') } : { document };
        }
        if (documents.size >= DOCUMENT_CACHE_SIZE)
            documents.delete(documents.keys().next().value);
        documents.set(query, prepared);
        return prepared;
    }
    function send(res, status, body, headers) {
        res.writeHead(status, { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(body)), ...headers });
        res.end(body);
    }
    function badRequest(res, message) {
        send(res, 400, JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
    }
    function readBody(req) {
        return new Promise((resolve, reject) => {
            const chunks = [];
            let size = 0;
            req.on('data', function onData(chunk) {
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
                resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8'));
            });
            req.on('error', reject);
        });
    }
    function delay(ms) {
        return new Promise((resolve) => {
            const timer = setTimeout(function delayed() {
                timers.delete(timer);
                resolve();
            }, ms);
            timer.unref();
            timers.add(timer);
        });
    }
    function authorized(req) {
        const header = req.headers['x-api-key'];
        if (header !== undefined)
            return header === apiKey;
        const url = req.url ?? '';
        const q = url.indexOf('?');
        return q !== -1 && new URLSearchParams(url.slice(q + 1)).get('apiKey') === apiKey;
    }
    function respond(res, result) {
        if (!('data' in result)) {
            send(res, 400, errorBody(result.errors ?? [], 'BAD_USER_INPUT'));
            return;
        }
        if (result.errors !== undefined) {
            const errors = result.errors.map((e) => {
                const json = e.toJSON();
                if (e.originalError instanceof errors_1.EmulatorError || e.originalError === undefined)
                    return json;
                return { ...json, extensions: { ...json.extensions, code: 'INTERNAL_SERVER_ERROR' } };
            });
            send(res, 200, JSON.stringify({ data: result.data, errors }));
            return;
        }
        send(res, 200, JSON.stringify(result));
    }
    async function handleGraphql(req, res) {
        const counters = state.counters;
        counters.requests += 1;
        const draw = failureRate > 0 ? random() : 1;
        const body = await readBody(req);
        if (latencyMs > 0)
            await delay(latencyMs);
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
        let payload;
        try {
            payload = JSON.parse(body);
        }
        catch {
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
        const result = (0, graphql_1.execute)({
            schema,
            document: prepared.document,
            rootValue,
            variableValues: variables,
            operationName: typeof payload.operationName === 'string' ? payload.operationName : undefined,
        });
        respond(res, 'then' in result ? await result : result);
    }
    function handleCheckout(id, res) {
        let subscription;
        try {
            subscription = state.completeCheckout(decodeURIComponent(id));
        }
        catch (error) {
            send(res, 409, JSON.stringify({ status: 'failed', message: error.message }));
            return;
        }
        if (subscription === null) {
            send(res, 404, JSON.stringify({ status: 'not-found', message: 'No pending checkout with this id (already completed, or reset).' }));
            return;
        }
        send(res, 200, JSON.stringify({ status: 'completed', subscriptionId: subscription.refId, subscriptionStatus: subscription.status }));
    }
    const server = (0, node_http_1.createServer)(function stiggEmulator(req, res) {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        const path = q === -1 ? url : url.slice(0, q);
        if (path === '/graphql') {
            if (req.method !== 'POST') {
                send(res, 405, JSON.stringify({ errors: [{ message: 'Use POST /graphql', extensions: { code: 'METHOD_NOT_ALLOWED' } }] }), { allow: 'POST' });
                return;
            }
            handleGraphql(req, res).catch(function requestFailed(error) {
                if (res.headersSent)
                    res.destroy();
                else
                    send(res, 500, JSON.stringify({ errors: [{ message: error.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
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
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: options.port ?? 0, host, backlog: 4096 }, () => {
            server.off('error', reject);
            resolve();
        });
    });
    const address = server.address();
    const origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    state.baseUrl = origin;
    let stopping;
    return {
        url: `${origin}/graphql`,
        apiKey,
        state,
        clock,
        stats: () => state.stats(),
        reset() {
            state.reset();
            random = createRandom(seed);
        },
        setFaults(faults) {
            if (typeof faults !== 'object' || faults === null)
                throw new TypeError('setFaults() takes { latencyMs?, failureRate? }.');
            checkFaults(faults);
            latencyMs = faults.latencyMs ?? latencyMs;
            failureRate = faults.failureRate ?? failureRate;
        },
        stop() {
            stopping ??= new Promise((resolve) => {
                for (const timer of timers)
                    clearTimeout(timer);
                timers.clear();
                server.close(() => resolve());
                server.closeAllConnections();
            });
            return stopping;
        },
    };
}
//# sourceMappingURL=server.js.map