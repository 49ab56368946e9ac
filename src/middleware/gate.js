"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.RequestGate = void 0;
exports.isThenable = isThenable;
exports.toError = toError;
exports.looksLikeRequest = looksLikeRequest;
exports.checkStatusMapping = checkStatusMapping;
exports.resolveStiggOptions = resolveStiggOptions;
exports.resolveRouteOptions = resolveRouteOptions;
exports.missingStiggError = missingStiggError;
exports.settleOnResponse = settleOnResponse;
const errors_1 = require("../core/errors");
const problem_1 = require("./problem");
const REASONS = new Set([
    'BudgetExceeded', 'CustomerIsArchived', 'CustomerNotFound', 'CustomerResourceNotFound', 'FeatureNotFound',
    'FeatureTypeMismatch', 'InsufficientCredits', 'NoActiveSubscription', 'NoFeatureEntitlementInSubscription',
    'RequestedUsageExceedingLimit', 'RequestedValuesMismatch', 'Revoked', 'Unknown',
]);
const silentLogger = {
    warn: function noopWarn() { },
    error: function noopError() { },
};
function reportWhenSuccessful(statusCode) {
    return statusCode < 400;
}
function isThenable(value) {
    return typeof value === 'object' && value !== null && typeof value.then === 'function';
}
/**
 * Express treats a falsy error (and the strings 'route'/'router') as "no error", and Koa ignores a
 * null rejection: errors from the app's resolvers that are not objects are wrapped.
 */
function toError(value) {
    return typeof value === 'object' && value !== null ? value : new Error(`A stigg-gate resolver failed with ${String(value)}`, { cause: value });
}
/** True for what Express (req) or Koa (ctx) hand to a middleware: an object carrying a request. */
function looksLikeRequest(value) {
    if (typeof value !== 'object' || value === null)
        return false;
    return 'headers' in value || 'req' in value || 'request' in value || 'method' in value;
}
function describe(value) {
    if (value === null)
        return 'null';
    if (typeof value === 'string')
        return JSON.stringify(value);
    if (typeof value === 'number')
        return String(value);
    return `a value of type ${typeof value}`;
}
function checkFunction(fn, name, value, hint) {
    if (value !== undefined && typeof value !== 'function') {
        throw new TypeError(`${describe(value)} is not a valid value for ${name} in ${fn}. ${hint}`);
    }
}
function checkStatusMapping(fn, value) {
    if (value === undefined)
        return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new TypeError(`${describe(value)} is not a valid value for statusMapping in ${fn}. Pass an object such as { NoActiveSubscription: 403 }.`);
    }
    const mapping = {};
    for (const [reason, status] of Object.entries(value)) {
        if (!REASONS.has(reason)) {
            throw new TypeError(`"${reason}" in statusMapping of ${fn} is not an AccessDeniedReason. Use one of: ${[...REASONS].join(', ')}.`);
        }
        if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
            throw new TypeError(`${describe(status)} is not a valid status for ${reason} in statusMapping of ${fn}. Please choose an integer from 400 to 599.`);
        }
        mapping[reason] = status;
    }
    return Object.freeze(mapping);
}
function checkLogger(fn, value) {
    if (value === undefined)
        return silentLogger;
    const logger = value;
    if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
        throw new TypeError(`${describe(value)} is not a valid value for logger in ${fn}. Pass an object with warn(message, meta) and error(message, meta) methods, e.g. console or a pino logger.`);
    }
    return logger;
}
function resolveStiggOptions(flavor, options) {
    const fn = 'stigg()';
    if (looksLikeRequest(options)) {
        throw new TypeError(`stigg was used as a middleware without being called. Write app.use(stigg({ entitlements, customer })) instead of app.use(stigg) (${flavor.module}).`);
    }
    if (typeof options !== 'object' || options === null) {
        throw new TypeError(`${fn} needs an options object: stigg({ entitlements, customer: (${flavor.arg}) => customerId }).`);
    }
    const o = options;
    const entitlements = o.entitlements;
    if (typeof entitlements !== 'object' || entitlements === null || typeof entitlements.acquire !== 'function') {
        throw new TypeError(`${fn} needs the entitlements option: pass the instance returned by createEntitlements({ client }) from 'stigg-gate'.`);
    }
    if (typeof o.customer !== 'function') {
        throw new TypeError(`${fn} needs the customer option: a function that returns the Stigg customer id of the request's authenticated user, e.g. customer: (${flavor.arg}) => ${flavor.arg === 'req' ? 'req.user' : 'ctx.state.user'}?.stiggCustomerId.`);
    }
    checkFunction(fn, 'resource', o.resource, `Pass a function that returns the Stigg resource id, e.g. resource: (${flavor.arg}) => ${flavor.arg}.params.siteId.`);
    checkFunction(fn, 'onDenied', o.onDenied, 'Pass a function that renders the denial itself.');
    checkFunction(fn, 'reportWhen', o.reportWhen, 'Pass a function of the response status code, e.g. reportWhen: (status) => status < 300.');
    return Object.freeze({
        entitlements: entitlements,
        customer: o.customer,
        resource: o.resource,
        statusMapping: checkStatusMapping(fn, o.statusMapping),
        onDenied: o.onDenied,
        reportWhen: o.reportWhen ?? reportWhenSuccessful,
        logger: checkLogger(fn, o.logger),
        warned: new Set(),
    });
}
function resolveRouteOptions(flavor, featureId, requestedUsage, options) {
    if (looksLikeRequest(featureId)) {
        throw new TypeError(`requireFeature was used as a middleware without being called. Write requireFeature('feature-id') (optionally with a usage) instead of passing requireFeature itself (${flavor.module}).`);
    }
    if (typeof featureId !== 'string' || featureId.trim() === '') {
        throw new TypeError(`${describe(featureId)} is not a valid feature id for requireFeature(). Pass the feature's id as it appears in Stigg, e.g. requireFeature('feature-01-templates').`);
    }
    const fn = `requireFeature('${featureId}')`;
    if (typeof requestedUsage === 'number') {
        if (!Number.isFinite(requestedUsage) || requestedUsage < 0) {
            throw new TypeError(`${describe(requestedUsage)} is not a valid requestedUsage for ${fn}. Please choose a finite number >= 0, or pass a function of the request.`);
        }
    }
    else if (requestedUsage !== undefined && typeof requestedUsage !== 'function') {
        const hint = typeof requestedUsage === 'object' && requestedUsage !== null && options === undefined
            ? ` To pass options without a usage write requireFeature('${featureId}', undefined, options).`
            : '';
        throw new TypeError(`${describe(requestedUsage)} is not a valid requestedUsage for ${fn}. Pass a number >= 0 or a function (${flavor.arg}) => number.${hint}`);
    }
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw new TypeError(`${describe(options)} is not a valid options object for ${fn}. Pass { resource?, statusMapping?, onDenied?, reportWhen? }.`);
    }
    const o = (options ?? {});
    checkFunction(fn, 'resource', o.resource, `Pass a function that returns the Stigg resource id, e.g. resource: (${flavor.arg}) => ${flavor.arg}.params.siteId.`);
    checkFunction(fn, 'onDenied', o.onDenied, 'Pass a function that renders the denial itself.');
    checkFunction(fn, 'reportWhen', o.reportWhen, 'Pass a function of the response status code, e.g. reportWhen: (status) => status < 300.');
    return Object.freeze({
        featureId,
        requestedUsage: requestedUsage,
        resource: o.resource,
        statusMapping: checkStatusMapping(fn, o.statusMapping),
        onDenied: o.onDenied,
        reportWhen: o.reportWhen,
    });
}
function missingStiggError(flavor, featureId) {
    return new TypeError(`requireFeature('${featureId}') ran on a request that did not pass through stigg(). Add app.use(stigg({ entitlements, customer })) from '${flavor.module}' before the gated routes.`);
}
function normalizeId(kind, value) {
    if (value === undefined || value === null || value === '')
        return undefined;
    if (typeof value !== 'string') {
        throw new TypeError(`The ${kind} resolver passed to stigg-gate returned ${describe(value)}; it must return a string id, or undefined when there is none.`);
    }
    return value;
}
/** Whether `value` is usage a request may ask for. */
function isUsage(value) {
    return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
/**
 * One per request, created by stigg(). It is also the AsyncLocalStorage store that decorated service
 * methods read, so it implements RequestContext. Resolvers run lazily and at most once.
 */
class RequestGate {
    config;
    req;
    entitlements;
    customer = null;
    resource = null;
    constructor(config, req) {
        this.config = config;
        this.req = req;
        this.entitlements = config.entitlements;
    }
    customerId() {
        this.customer ??= this.resolve('customer', this.config.customer);
        return this.customer;
    }
    resourceId() {
        if (this.config.resource === undefined)
            return undefined;
        this.resource ??= this.resolve('resource', this.config.resource);
        return this.resource;
    }
    resolve(kind, resolver) {
        const value = resolver(this.req);
        return isThenable(value) ? value.then((id) => normalizeId(kind, id)) : normalizeId(kind, value);
    }
    /** Resolve customer, usage and resource, then acquire. May throw or reject with the app's errors. */
    evaluate(route) {
        const customerId = this.customerId();
        if (isThenable(customerId))
            return customerId.then((id) => this.withCustomer(route, id));
        return this.withCustomer(route, customerId);
    }
    withCustomer(route, customerId) {
        if (customerId === undefined)
            return { kind: 'problem', problem: (0, problem_1.noCustomerProblem)(route.featureId) };
        if (typeof route.requestedUsage !== 'function')
            return this.withUsage(route, customerId, route.requestedUsage);
        const usage = route.requestedUsage(this.req);
        if (isThenable(usage))
            return usage.then((value) => this.withRequestUsage(route, customerId, value));
        return this.withRequestUsage(route, customerId, usage);
    }
    /** Usage taken from the request must be a finite number >= 0: anything else is the client's mistake (400). */
    withRequestUsage(route, customerId, requestedUsage) {
        if (!isUsage(requestedUsage))
            return { kind: 'problem', problem: (0, problem_1.invalidUsageProblem)(route.featureId, requestedUsage) };
        return this.withUsage(route, customerId, requestedUsage);
    }
    withUsage(route, customerId, requestedUsage) {
        const resourceId = route.resource === undefined ? this.resourceId() : this.resolve('resource', route.resource);
        if (isThenable(resourceId))
            return resourceId.then((id) => this.acquire(route, customerId, requestedUsage, id));
        return this.acquire(route, customerId, requestedUsage, resourceId);
    }
    acquire(route, customerId, requestedUsage, resourceId) {
        let lease;
        try {
            lease = this.entitlements.acquire({ customerId, featureId: route.featureId, resourceId, requestedUsage });
        }
        catch (error) {
            return this.unavailable(error);
        }
        if (isThenable(lease)) {
            return lease.then((value) => this.decide(route, value), (error) => this.unavailable(error));
        }
        return this.decide(route, lease);
    }
    unavailable(error) {
        if (!(error instanceof errors_1.EntitlementUnavailableError))
            throw error;
        return { kind: 'problem', problem: (0, problem_1.unavailableProblem)(error.featureId, error.retryAfterSeconds), retryAfterSeconds: error.retryAfterSeconds };
    }
    decide(route, lease) {
        const decision = lease.decision;
        if (decision.granted)
            return { kind: 'granted', lease };
        const reason = decision.accessDeniedReason ?? 'Unknown';
        if (errors_1.MISCONFIGURATION_REASONS.has(reason))
            this.warnOnce(decision, reason);
        const status = route.statusMapping?.[reason] ?? this.config.statusMapping?.[reason] ?? (0, errors_1.statusForReason)(reason);
        return { kind: 'denied', lease, problem: (0, problem_1.deniedProblem)(decision, status) };
    }
    warnOnce(decision, reason) {
        const key = `${decision.featureId}\0${reason}`;
        if (this.config.warned.has(key))
            return;
        this.config.warned.add(key);
        this.config.logger.warn(`stigg-gate: feature "${decision.featureId}" was denied with ${reason}, which usually means a misconfiguration (check the feature id and its type in Stigg). Logged once per feature and reason.`, {
            featureId: decision.featureId,
            accessDeniedReason: reason,
        });
    }
    reportWhen(route) {
        return route.reportWhen ?? this.config.reportWhen;
    }
    onDenied(route) {
        return route.onDenied ?? this.config.onDenied;
    }
}
exports.RequestGate = RequestGate;
/**
 * Settle a granted lease by how the response ends: commit when it finished with a status that
 * `reportWhen` accepts, release on any other status or when the connection closed before it finished.
 */
function settleOnResponse(res, lease, reportWhen, logger) {
    function settle(finished) {
        res.removeListener('finish', onFinish);
        res.removeListener('close', onClose);
        try {
            if (finished && reportWhen(res.statusCode))
                lease.commit();
            else
                lease.release();
        }
        catch (error) {
            logger.error('stigg-gate: settling the usage of a request failed; nothing was reported for it', {
                featureId: lease.decision.featureId,
                error,
            });
            if (finished)
                safeRelease(lease);
        }
    }
    function onFinish() {
        settle(true);
    }
    function onClose() {
        settle(res.writableFinished);
    }
    res.once('finish', onFinish);
    res.once('close', onClose);
}
function safeRelease(lease) {
    try {
        lease.release();
    }
    catch {
        // The lease is already unusable; the reservation expires with its TTL.
    }
}
//# sourceMappingURL=gate.js.map