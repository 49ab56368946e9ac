import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, type GraphQLSchema } from 'graphql';
import type { EmulatorState } from './state';

let cached: GraphQLSchema | undefined;

/** The project's wire schema (src/client/schema.graphql, copied beside the build by scripts/build.js). */
export function loadSchema(): GraphQLSchema {
  cached ??= buildSchema(readFileSync(join(__dirname, '..', 'client', 'schema.graphql'), 'utf8'));
  return cached;
}

// graphql-js has validated and coerced the arguments against the schema before a resolver runs.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Args = { readonly [argument: string]: any };

/**
 * Root resolvers: one per root field, each counted in stats.operations when graphql-js executes it.
 * Nested fields resolve from the plain objects the state returns.
 */
export function createRootValue(state: EmulatorState, schema: GraphQLSchema = loadSchema()): Record<string, (args: Args) => unknown> {
  const handlers: Record<string, (args: Args) => unknown> = {
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
  const served = [schema.getQueryType(), schema.getMutationType()].flatMap((type) => Object.keys(type?.getFields() ?? {}));
  const missing = served.filter((field) => !(field in handlers));
  if (missing.length > 0) throw new Error(`The emulator has no resolver for ${missing.join(', ')} of src/client/schema.graphql; add it to createRootValue().`);
  const root: Record<string, (args: Args) => unknown> = {};
  for (const [field, handler] of Object.entries(handlers)) {
    root[field] = function countedResolver(args: Args): unknown {
      const operations = state.counters.operations;
      operations[field] = (operations[field] ?? 0) + 1;
      return handler(args);
    };
  }
  return root;
}
