"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.loadSchema = loadSchema;
exports.createRootValue = createRootValue;
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
const graphql_1 = require("graphql");
let cached;
/** The project's wire schema (src/client/schema.graphql, copied beside the build by scripts/build.js). */
function loadSchema() {
    cached ??= (0, graphql_1.buildSchema)((0, node_fs_1.readFileSync)((0, node_path_1.join)(__dirname, '..', 'client', 'schema.graphql'), 'utf8'));
    return cached;
}
/**
 * Root resolvers: one per root field, each counted in stats.operations when graphql-js executes it.
 * Nested fields resolve from the plain objects the state returns.
 */
function createRootValue(state) {
    const handlers = {
        getCustomerByRefId: (a) => state.getCustomerByRefId(a.input),
        getActiveSubscriptions: (a) => state.getActiveSubscriptions(a.input),
        getSubscription: (a) => state.getSubscription(a.input),
        entitlement: (a) => state.entitlement(a.query),
        cachedEntitlements: (a) => state.cachedEntitlements(a.query),
        coupons: (a) => state.coupons(a),
        provisionCustomer: (a) => state.provisionCustomer(a.input),
        updateOneCustomer: (a) => state.updateOneCustomer(a.input),
        archiveCustomer: (a) => state.archiveCustomer(a.input),
        unarchiveCustomer: (a) => state.unarchiveCustomer(a.input),
        provisionSubscriptionV2: (a) => state.provisionSubscriptionV2(a.subscription),
        updateOneSubscription: (a) => state.updateOneSubscription(a.input),
        cancelSubscription: (a) => state.cancelSubscription(a.input),
        migrateSubscriptionToLatest: (a) => state.migrateSubscriptionToLatest(a.input),
        estimateSubscription: (a) => state.estimateSubscription(a.input),
        estimateSubscriptionUpdate: (a) => state.estimateSubscriptionUpdate(a.input),
        reportUsage: (a) => state.reportUsage(a.input),
        reportUsageBulk: (a) => state.reportUsageBulk(a.input),
        reportEvent: (a) => state.reportEvent(a.events),
        grantPromotionalEntitlements: (a) => state.grantPromotionalEntitlements(a.input),
        revokePromotionalEntitlement: (a) => state.revokePromotionalEntitlement(a.input),
    };
    const root = {};
    for (const [field, handler] of Object.entries(handlers)) {
        root[field] = function countedResolver(args) {
            const operations = state.counters.operations;
            operations[field] = (operations[field] ?? 0) + 1;
            return handler(args);
        };
    }
    return root;
}
//# sourceMappingURL=schema.js.map