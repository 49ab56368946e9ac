import { buildSchema, GraphQLEnumType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { STIGG_SCHEMA_SDL } from '../client/generated/schema';
import { SDK_CONFIGURATION } from './edge';
import { EmulatorError } from './errors';
import type { EmulatorState } from './state';

let cached: GraphQLSchema | undefined;

/**
 * Stigg's schema (src/client/schema.graphql, compiled into the build as src/client/generated/schema.ts), with one
 * change: AccessDeniedReason passes any string through, as Stigg's newer API answers reasons this
 * schema does not list yet (EntitlementNotFound) and the emulator can be told to answer one.
 */
export function loadSchema(): GraphQLSchema {
  if (cached !== undefined) return cached;
  const schema = buildSchema(STIGG_SCHEMA_SDL);
  const reasons = schema.getType('AccessDeniedReason');
  if (reasons instanceof GraphQLEnumType) {
    const known = reasons.serialize.bind(reasons);
    reasons.serialize = function serializeReason(value: unknown) {
      return typeof value === 'string' && reasons.getValue(value) === undefined ? value : known(value);
    };
  }
  cached = schema;
  return schema;
}

// graphql-js has validated and coerced the arguments against the schema before a resolver runs,
// so each resolver hands them on as the typed input of its operation.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- schema-validated GraphQL arguments, typed by the state method they are passed to
type Args = { readonly [argument: string]: any };
type Resolver = (args: Args, context: unknown, info: GraphQLResolveInfo) => unknown;

/** Root fields the emulator answers, by the argument names of Stigg's schema. */
export function modelledRootFields(state: EmulatorState): Record<string, (args: Args, context?: unknown) => unknown> {
  /* eslint-disable @typescript-eslint/no-unsafe-argument -- Args are schema-validated (above): each state method's parameter type is their type */
  return {
    getCustomerByRefId: (a) => state.getCustomerByRefId(a.input),
    getActiveSubscriptions: (a) => state.getActiveSubscriptions(a.input),
    getSubscription: (a) => state.getSubscription(a.input),
    subscriptions: (a) => state.subscriptions(a),
    entitlementsState: (a) => state.entitlementsState(a.query),
    products: (a) => state.products(a),
    entitlement: (a) => state.entitlement(a.query),
    cachedEntitlements: (a) => state.cachedEntitlements(a.query),
    coupons: (a) => state.coupons(a),
    sdkConfiguration: () => SDK_CONFIGURATION,
    provisionCustomer: (a) => state.provisionCustomer(a.input),
    updateOneCustomer: (a) => state.updateOneCustomer(a.input),
    archiveCustomer: (a) => state.archiveCustomer(a.input),
    unarchiveCustomer: (a) => state.unarchiveCustomer(a.input),
    provisionSubscriptionV2: (a) => state.provisionSubscriptionV2(a.input),
    updateOneSubscription: (a) => state.updateOneSubscription(a.input),
    cancelSubscription: (a) => state.cancelSubscription(a.input),
    migrateSubscriptionToLatest: (a) => state.migrateSubscriptionToLatest(a.input),
    estimateSubscription: (a) => state.estimateSubscription(a.input),
    estimateSubscriptionUpdate: (a) => state.estimateSubscriptionUpdate(a.input),
    reportUsage: (a) => state.reportUsage(a.input),
    reportUsageBulk: (a) => state.reportUsageBulk(a.input),
    reportEvent: (a) => state.reportEvent(a.events),
    reportEntitlementCheckRequested: (a, context) => state.reportEntitlementCheckRequested(a.entitlementCheckRequested, requestOf(context)),
    grantPromotionalEntitlements: (a) => state.grantPromotionalEntitlements(a.input),
    creditBalanceSummary: (a) => state.creditBalanceSummary(a.input),
    creditGrants: (a) => state.creditGrants(a.input),
    creditsLedger: (a) => state.creditsLedger(a.input),
    createCreditGrant: (a) => state.createCreditGrant(a.input),
    voidCreditGrant: (a) => state.voidCreditGrant(a.input),
    consumeCredits: (a) => state.consumeCredits(a.input),
    consumeCreditsAsync: (a) => state.consumeCreditsAsync(a.input),
    revokePromotionalEntitlement: (a) => state.revokePromotionalEntitlement(a.input),
  };
  /* eslint-enable @typescript-eslint/no-unsafe-argument */
}

/** The HTTP call a resolver runs for (the server passes `{ request }` as the GraphQL context); -1 without one. */
function requestOf(context: unknown): number {
  const request = typeof context === 'object' && context !== null ? (context as { request?: unknown }).request : undefined;
  return typeof request === 'number' ? request : -1;
}

/** Every root field of the schema (queries, mutations, subscriptions), in schema order. */
export function rootFields(schema: GraphQLSchema = loadSchema()): string[] {
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) =>
    Object.keys(type?.getFields() ?? {}),
  );
}

function notModelled(field: string, subscription: boolean): Resolver {
  return function notModelledResolver(_args, _context, info) {
    const operation = info.operation.name?.value;
    const named = operation === undefined || operation === field ? field : `${operation} (${field})`;
    const hint = subscription
      ? 'it does not push GraphQL subscriptions; configure webhooks instead'
      : 'see docs/emulator.md for what it models';
    throw new EmulatorError('NOT_MODELLED', `${named}: the Stigg emulator does not model ${field}; ${hint}.`, field);
  };
}

/**
 * Root resolvers: one per root field of the schema, each counted in stats.operations when graphql-js
 * executes it. Fields the emulator does not model answer a NOT_MODELLED error naming the operation.
 */
export function createRootValue(state: EmulatorState, schema: GraphQLSchema = loadSchema()): Record<string, Resolver> {
  const handlers = modelledRootFields(state);
  const subscriptions = new Set(Object.keys(schema.getSubscriptionType()?.getFields() ?? {}));
  const root: Record<string, Resolver> = {};
  for (const field of rootFields(schema)) {
    const handler: Resolver = handlers[field] ?? notModelled(field, subscriptions.has(field));
    root[field] = function countedResolver(args, context, info): unknown {
      const operations = state.counters.operations;
      operations[field] = (operations[field] ?? 0) + 1;
      return handler(args, context, info);
    };
  }
  return root;
}
