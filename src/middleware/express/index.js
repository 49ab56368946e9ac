"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.EntitlementUnavailableError = exports.EntitlementDeniedError = exports.PROBLEM_TYPE_PREFIX = exports.PROBLEM_CONTENT_TYPE = void 0;
exports.stigg = stigg;
exports.requireFeature = requireFeature;
exports.entitlementErrorHandler = entitlementErrorHandler;
const context_1 = require("../../core/context");
const errors_1 = require("../../core/errors");
Object.defineProperty(exports, "EntitlementDeniedError", { enumerable: true, get: function () { return errors_1.EntitlementDeniedError; } });
Object.defineProperty(exports, "EntitlementUnavailableError", { enumerable: true, get: function () { return errors_1.EntitlementUnavailableError; } });
const gate_1 = require("../gate");
const problem_1 = require("../problem");
var problem_2 = require("../problem");
Object.defineProperty(exports, "PROBLEM_CONTENT_TYPE", { enumerable: true, get: function () { return problem_2.PROBLEM_CONTENT_TYPE; } });
Object.defineProperty(exports, "PROBLEM_TYPE_PREFIX", { enumerable: true, get: function () { return problem_2.PROBLEM_TYPE_PREFIX; } });
const flavor = { module: 'stigg-gate/express', arg: 'req' };
const kGate = Symbol.for('stigg-gate.express.gate');
/** Sets up the per-request context that requireFeature() and decorated methods use. Does no work by itself. */
function stigg(options) {
    const config = (0, gate_1.resolveStiggOptions)(flavor, options);
    return function stiggMiddleware(req, _res, next) {
        const gate = new gate_1.RequestGate(config, req);
        req[kGate] = gate;
        if ((0, context_1.isRequestContextEnabled)()) {
            context_1.requestContextStorage.run(gate, next);
            return;
        }
        next();
    };
}
function send(res, problem, retryAfterSeconds) {
    const body = JSON.stringify(problem);
    res.statusCode = problem.status;
    res.setHeader('Content-Type', problem_1.PROBLEM_CONTENT_TYPE);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    if (retryAfterSeconds !== undefined)
        res.setHeader('Retry-After', (0, problem_1.retryAfterHeader)(retryAfterSeconds));
    res.end(body);
}
function expose(req, decision) {
    req.entitlement = decision;
    req.entitlements ??= {};
    req.entitlements[decision.featureId] = decision;
}
function apply(gate, route, outcome, req, res, next) {
    if (outcome.kind === 'granted') {
        const lease = outcome.lease;
        expose(req, lease.decision);
        if (lease.decision.metered)
            (0, gate_1.settleOnResponse)(res, lease, gate.reportWhen(route), gate.config.logger);
        next();
        return;
    }
    if (outcome.kind === 'problem') {
        send(res, outcome.problem, outcome.retryAfterSeconds);
        return;
    }
    outcome.lease.release();
    const onDenied = gate.onDenied(route);
    if (onDenied === undefined) {
        send(res, outcome.problem);
        return;
    }
    const rendered = onDenied(outcome.lease.decision, req, res, outcome.problem);
    if ((0, gate_1.isThenable)(rendered))
        rendered.then(undefined, (error) => next((0, gate_1.toError)(error)));
}
/**
 * Gates a route on `featureId`. `requestedUsage` (a number, or a function of the request) is reserved
 * now and reported when the response finishes with a status < 400; otherwise it is released.
 */
function requireFeature(featureId, requestedUsage, options) {
    const route = (0, gate_1.resolveRouteOptions)(flavor, featureId, requestedUsage, options);
    return function requireFeatureMiddleware(req, res, next) {
        const gate = req[kGate];
        if (gate === undefined) {
            next((0, gate_1.missingStiggError)(flavor, route.featureId));
            return;
        }
        let outcome;
        try {
            outcome = gate.evaluate(route);
        }
        catch (error) {
            next((0, gate_1.toError)(error));
            return;
        }
        if (!(0, gate_1.isThenable)(outcome)) {
            apply(gate, route, outcome, req, res, next);
            return;
        }
        outcome.then(function applyOutcome(value) {
            try {
                apply(gate, route, value, req, res, next);
            }
            catch (error) {
                // Only reachable before next() ran: apply calls next() last, and Express catches what handlers throw.
                next((0, gate_1.toError)(error));
            }
        }, function failed(error) {
            next((0, gate_1.toError)(error));
        });
    };
}
/**
 * Renders EntitlementDeniedError / EntitlementUnavailableError (thrown by decorated methods) as
 * problem+json; passes every other error on. Mount it after the routes.
 */
function entitlementErrorHandler(options) {
    if ((0, gate_1.looksLikeRequest)(options)) {
        throw new TypeError('entitlementErrorHandler was used without being called. Write app.use(entitlementErrorHandler()) after your routes (stigg-gate/express).');
    }
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw new TypeError('entitlementErrorHandler() takes an optional options object: entitlementErrorHandler({ statusMapping }).');
    }
    const mapping = (0, gate_1.checkStatusMapping)('entitlementErrorHandler()', options?.statusMapping);
    return function entitlementErrorHandlerMiddleware(err, req, res, next) {
        if (!(0, problem_1.isEntitlementError)(err) || res.headersSent) {
            next(err);
            return;
        }
        const gate = req[kGate];
        const rendered = (0, problem_1.errorProblem)(err, mapping, gate?.config.statusMapping);
        send(res, rendered.problem, rendered.retryAfterSeconds);
    };
}
//# sourceMappingURL=index.js.map