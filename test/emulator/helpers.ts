import { StiggClient, StiggGraphQLError } from '../../src/client';
import type { Emulator } from '../../src/emulator';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data: T | null | undefined;
  errors: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }> | undefined;
}

/** A raw POST /graphql, for wire-level assertions (status codes, error shapes). */
export async function post<T = Record<string, unknown>>(
  emulator: Emulator,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = { 'x-api-key': emulator.apiKey },
): Promise<GraphQLResponse<T>> {
  const res = await fetch(emulator.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T | null; errors?: GraphQLResponse['errors'] };
  return { status: res.status, data: body.data, errors: body.errors };
}

export const ENTITLEMENT = /* GraphQL */ `
  query GetEntitlement($query: FetchEntitlementQuery!) {
    entitlement(query: $query) {
      isGranted
      accessDeniedReason
      customerId
      resourceId
      usageLimit
      hasUnlimitedUsage
      currentUsage
      requestedUsage
      usagePeriodAnchor
      usagePeriodStart
      usagePeriodEnd
      nextResetDate
      resetPeriod
      feature {
        refId
        featureType
        meterType
        featureUnits
        featureUnitsPlural
        displayName
      }
    }
  }
`;

export const PROVISION_CUSTOMER = /* GraphQL */ `
  mutation ProvisionCustomer($input: ProvisionCustomerInput!) {
    provisionCustomer(input: $input) {
      customer {
        id
        customerId
        refId
        name
        email
        hasPaymentMethod
        hasActiveSubscription
      }
      subscriptionDecisionStrategy
      subscription {
        id
        refId
        subscriptionId
        status
        plan {
          refId
        }
      }
    }
  }
`;

export const REPORT_USAGE = /* GraphQL */ `
  mutation ReportUsage($input: ReportUsageInput!) {
    reportUsage(input: $input) {
      id
      customerId
      resourceId
      featureId
      currentUsage
      usagePeriodStart
      usagePeriodEnd
      nextResetDate
      timestamp
    }
  }
`;

export const REPORT_USAGE_BULK = /* GraphQL */ `
  mutation ReportUsageBulk($input: ReportUsageBulkInput!) {
    reportUsageBulk(input: $input) {
      id
      customerId
      resourceId
      featureId
      currentUsage
      usagePeriodStart
      usagePeriodEnd
    }
  }
`;

export const T0 = Date.parse('2026-01-15T10:00:00.000Z');
export const DAY = 86_400_000;

export function clientFor(emulator: Emulator): StiggClient {
  return new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
}

/** The GraphQL error a client call rejected with (fails the test when it resolved or threw something else). */
export async function graphqlError(promise: Promise<unknown>): Promise<StiggGraphQLError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StiggGraphQLError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with a StiggGraphQLError, but it succeeded');
}
