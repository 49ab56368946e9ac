import { execute, parse, type GraphQLSchema } from 'graphql';
import type { EmulatorState } from './state';
import type { Json } from './store';

const SUBSCRIPTIONS = parse(/* GraphQL */ `
  query EdgeSubscriptions($input: GetActiveSubscriptionsInput!) {
    getActiveSubscriptions(input: $input) {
      subscriptionId
      status
      pricingType
      startDate
      cancellationDate
      currentBillingPeriodEnd
      trialEndDate
      customer {
        customerId
      }
      payingCustomer {
        customerId
      }
      resource {
        resourceId
      }
      plan {
        planId: refId
        displayName
      }
      addons {
        quantity
        addon {
          addonId: refId
        }
      }
      trialConfiguration {
        trialEndBehavior
      }
    }
  }
`);

export const SDK_CONFIGURATION = { sentryDsn: null, isWidgetWatermarkEnabled: false, showWatermark: false };

/**
 * The read-only JSON routes of Stigg's edge API that @stigg/node-server-sdk calls when `enableEdge` is on
 * (its default): entitlements, active subscriptions and the SDK configuration, as `{ data: … }`.
 * Returns null for any other path (the caller answers 404).
 */
export async function edgeAnswer(
  path: string,
  search: URLSearchParams,
  state: EmulatorState,
  schema: GraphQLSchema,
  rootValue: unknown,
): Promise<Json | null> {
  if (path === '/v1/config/server-sdk-configuration.json') return { data: { sdkConfiguration: SDK_CONFIGURATION } };
  const match = /^\/v1\/c\/([^/]+)\/(entitlements|subscriptions)\.json$/.exec(path);
  if (match === null) return null;
  const customerId = decodeURIComponent(match[1] as string);
  const resourceId = search.get('resourceId');
  if (match[2] === 'entitlements') {
    state.counters.operations.edgeEntitlements = (state.counters.operations.edgeEntitlements ?? 0) + 1;
    // Stigg's edge answers an empty list for an unknown customer (the node SDK reads it as CustomerNotFound).
    const entitlements = state.entitlementsState({ customerId, resourceId }).entitlements;
    return { data: { entitlements } };
  }
  const resourceIds = search.getAll('resourceIds');
  const input = {
    customerId,
    ...(resourceId === null ? {} : { resourceId }),
    ...(resourceIds.length === 0 ? {} : { resourceIds }),
  };
  const result = await execute({ schema, document: SUBSCRIPTIONS, rootValue, variableValues: { input } });
  return result.errors === undefined ? { data: result.data } : { data: null, errors: result.errors.map((e) => e.toJSON()) };
}
