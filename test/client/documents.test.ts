import { Kind, NoUnusedFragmentsRule, parse, validate } from 'graphql';
import type { DefinitionNode, DocumentNode } from 'graphql';
import { StiggClient } from '../../src/client';
import { loadOperation } from '../../src/client/documents';
import type { OperationName } from '../../src/client/documents';
import type { EntitlementsUpstream } from '../../src/core/types';
import type { BillingAddress, CustomerSubscription, Operations, SubscriptionBillingInfo } from '../../src/client/types';
import type { GetCouponsArgs } from '../../src/client';
import { loadSourceDocuments } from './helpers/codegen';

const { schema, fragments, operations } = loadSourceDocuments();

// ---- compile-time: each method takes its document's variables and resolves to its root field's type
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Vars<K extends OperationName> = Operations[K]['variables'];
// getCoupons takes its three optional variables as one object; every other method takes its one variable.
type MainArgument<K extends OperationName> = K extends 'getCoupons' ? Vars<K> : Vars<K>[keyof Vars<K>];
type Resolves<K extends OperationName> = K extends 'reportEvent' ? void : Operations[K]['result'];
type MethodMatchesDocument = {
  [K in OperationName]: [
    Same<Awaited<ReturnType<StiggClient[K]>>, Resolves<K>>,
    MainArgument<K> extends NonNullable<Parameters<StiggClient[K]>[0]> ? true : false,
  ];
};
const methodsMatchDocuments: { [K in OperationName]: [true, true] } = {} as MethodMatchesDocument;
const clientIsAnUpstream = (client: StiggClient): EntitlementsUpstream => client;

// ---- compile-time: the public signatures take Stigg's real input types
type EstimateBilling = NonNullable<Parameters<StiggClient['estimateSubscription']>[0]['billingInformation']>;
type CustomerBilling = NonNullable<Parameters<StiggClient['provisionCustomer']>[0]['billingInformation']>;
const realInputs: [
  Same<EstimateBilling, SubscriptionBillingInfo>,
  Same<NonNullable<EstimateBilling['billingAddress']>, BillingAddress>,
  'line1' extends keyof BillingAddress ? true : false,
  'taxRateIds' extends keyof EstimateBilling ? true : false,
  'taxRateIds' extends keyof CustomerBilling ? false : true,
  'taxIds' extends keyof CustomerBilling ? true : false,
  Same<Awaited<ReturnType<StiggClient['migrateSubscriptionToLatest']>>, CustomerSubscription>,
  'sorting' extends keyof GetCouponsArgs ? false : true,
] = [true, true, true, true, true, true, true, true];

describe('operations/*.graphql', () => {
  it('holds the 21 operations of the seed documents, entitlementsState (the set Stigg SDKs decide from), the credit operations and reportEntitlementCheckRequested, one per file', () => {
    expect(operations.map((op) => op.name)).toEqual(
      [
        'archiveCustomer',
        'cancelSubscription',
        'estimateSubscription',
        'estimateSubscriptionUpdate',
        'getActiveSubscriptions',
        'getCoupons',
        'getCustomer',
        'getEntitlement',
        'getEntitlements',
        'getEntitlementsState',
        'getSubscription',
        'grantPromotionalEntitlements',
        'migrateSubscriptionToLatest',
        'provisionCustomer',
        'provisionSubscription',
        'reportEntitlementCheckRequested',
        'reportEvent',
        'reportUsage',
        'reportUsageBulk',
        'revokePromotionalEntitlement',
        'unarchiveCustomer',
        'updateCustomer',
        'updateSubscription',
        // credits (issue 31): the official client's five, and direct consumption from Stigg's reference pages
        'getCreditBalance',
        'getCreditGrants',
        'getCreditLedger',
        'grantCredits',
        'voidCreditGrant',
        'consumeCredits',
        'consumeCreditsAsync',
      ].sort(),
    );
  });

  it.each(operations.map((op) => [op.name]))('%s is valid against schema.graphql as the client sends it', (name) => {
    const sent = loadOperation(name as OperationName);
    const document = parse(sent.query);
    // Each error names the file it comes from (the operation's file or the fragment in fragments.graphql) and the field.
    const where = (position: number | undefined): string => {
      const definition = document.definitions.find(
        (d) => d.loc && position !== undefined && d.loc.start <= position && position < d.loc.end,
      );
      return definition?.kind === Kind.FRAGMENT_DEFINITION ? `fragments.graphql (${definition.name.value})` : `operations/${name}.graphql`;
    };
    const errors = validate(schema, document).map((e) => `${where(e.nodes?.[0]?.loc?.start)}: ${e.message}`);
    expect(errors).toEqual([]);
  });

  it('uses the root fields and argument names of the real API', () => {
    const used = Object.fromEntries(operations.map((op) => [op.name, loadOperation(op.name as OperationName).rootField]));
    expect(used).toMatchObject({
      updateCustomer: 'updateOneCustomer',
      getCustomer: 'getCustomerByRefId',
      provisionSubscription: 'provisionSubscriptionV2',
      updateSubscription: 'updateOneSubscription',
      getEntitlement: 'entitlement',
      getEntitlements: 'cachedEntitlements',
      getCoupons: 'coupons',
    });
    expect(loadOperation('reportEvent').query).toMatch(/reportEvent\(events: \$events\)/);
    expect(loadOperation('provisionSubscription').query).toMatch(/provisionSubscriptionV2\(input: \$input\)/);
    expect(loadOperation('getCoupons').query).not.toMatch(/sorting/);
  });

  it('sends only the fragments an operation spreads', () => {
    const sent = loadOperation('getEntitlement').query;
    expect(sent).toMatch(/fragment EntitlementFragment on Entitlement/);
    expect(sent).toMatch(/fragment EntitlementFeatureFragment on EntitlementFeature/);
    expect(sent).not.toMatch(/CustomerFragment/);
  });

  it('uses every fragment of fragments.graphql somewhere', () => {
    const definitions = new Map<string, DefinitionNode>();
    for (const op of operations) {
      for (const definition of parse(loadOperation(op.name as OperationName).query).definitions) {
        if ('name' in definition && definition.name) definitions.set(definition.name.value, definition);
      }
    }
    const everything: DocumentNode = { kind: Kind.DOCUMENT, definitions: [...definitions.values()] };
    expect(validate(schema, everything, [NoUnusedFragmentsRule]).map((e) => e.message)).toEqual([]);
    expect(definitions.size).toBe(operations.length + fragments.length);
  });

  it('has exactly one StiggClient method per document (and no other public method)', () => {
    const methods = Object.getOwnPropertyNames(StiggClient.prototype)
      .filter((name) => name !== 'constructor')
      .sort();
    expect(methods).toEqual(operations.map((op) => op.name));
    expect(methods.every((name) => typeof (StiggClient.prototype as unknown as Record<string, unknown>)[name] === 'function')).toBe(true);
    expect(Object.keys(methodsMatchDocuments)).toEqual([]);
    expect(typeof clientIsAnUpstream).toBe('function');
    expect(realInputs.every(Boolean)).toBe(true);
  });
});
