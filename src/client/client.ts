import { rejectUnknownOptions } from '../util/unknown-options';
import { localOverrides } from '../testing/local';
import { checkBatchOperation, checkBatchVariables, MAX_CHECKS_PER_CALL } from './check-batch';
import { loadOperation } from './documents';
import type { LoadedOperation, OperationName } from './documents';
import { StiggError, StiggHttpError, StiggNetworkError } from './errors';
import { configure, resolveCreateClientOptions } from './options';
import type { Configuration, StiggClientOptions, StiggCreateClientOptions } from './options';
import { sendOnce } from './transport';
import { aborted, isAborted, signalOf, sleep, type RequestOptions } from './abort';
import { checkAsyncConsumptions, checkConsumption, checkGrant, checkReport, checkUsage, customerInput, hasKey } from './input-checks';
import type {
  ArchiveCustomerInput,
  ConsumeCreditInput,
  ConsumeCreditsAsyncInput,
  CouponConnection,
  CreditBalanceSummary,
  CreditBalanceSummaryInput,
  CreditConsumption,
  CreditGrant,
  CreditGrantInput,
  CreditLedgerInput,
  GetCreditGrantsInput,
  VoidCreditGrantInput,
  Customer,
  CustomerSubscription,
  Entitlement,
  EntitlementCheckRequested,
  EstimateSubscriptionInput,
  EstimateSubscriptionUpdateInput,
  FetchEntitlementQuery,
  FetchEntitlementsQuery,
  GetActiveSubscriptionsInput,
  GetCustomerByRefIdInput,
  GetSubscriptionInput,
  GrantPromotionalEntitlementsInput,
  Operations,
  PromotionalEntitlement,
  ProvisionCustomerInput,
  ProvisionedCustomer,
  ProvisionSubscriptionInput,
  ProvisionSubscriptionResult,
  ReportUsageBulkInput,
  ReportUsageInput,
  RevokePromotionalEntitlementInput,
  SubscriptionCancellationInput,
  SubscriptionMigrationInput,
  SubscriptionPreview,
  UnarchiveCustomerInput,
  UpdateCustomerInput,
  UpdateSubscriptionInput,
  UsageEventsReportInput,
  UsageMeasurementWithCurrentUsage,
} from './types';
import { optionalId, requireEitherId, requireFinite, requireId, requireNonEmptyArray, requireObject } from './validate';

export interface GetCouponsArgs {
  filter?: Operations['getCoupons']['variables']['filter'];
  paging?: Operations['getCoupons']['variables']['paging'];
}

/**
 * A thin typed client for Stigg's GraphQL API: one method per document in operations/, each
 * resolving to the value of the operation's root field.
 */
export class StiggClient {
  readonly #config: Configuration;

  constructor(options: StiggClientOptions) {
    this.#config = configure(options);
  }

  async provisionCustomer(input: ProvisionCustomerInput): Promise<ProvisionedCustomer> {
    const m = 'provisionCustomer';
    requireObject(m, 'input', input);
    requireEitherId(m, 'input.customerId (or input.refId)', input.customerId, input.refId);
    if (input.subscriptionParams !== undefined && input.subscriptionParams !== null) {
      requireObject(m, 'input.subscriptionParams', input.subscriptionParams);
      requireId(m, 'input.subscriptionParams.planId', input.subscriptionParams.planId);
    }
    return this.#execute(m, { input }, false);
  }

  async updateCustomer(input: UpdateCustomerInput): Promise<Customer> {
    const m = 'updateCustomer';
    requireObject(m, 'input', input);
    requireEitherId(m, 'input.customerId (or input.refId)', input.customerId, input.refId);
    return this.#execute(m, { input }, false);
  }

  /** Null when Stigg answers without a customer (the field is nullable in Stigg's schema). */
  async getCustomer(customerId: string | GetCustomerByRefIdInput): Promise<Customer | null> {
    return this.#execute('getCustomer', { input: customerInput('getCustomer', customerId) }, false);
  }

  async archiveCustomer(customerId: string | ArchiveCustomerInput): Promise<Customer> {
    return this.#execute('archiveCustomer', { input: customerInput('archiveCustomer', customerId) }, false);
  }

  async unarchiveCustomer(customerId: string | UnarchiveCustomerInput): Promise<Customer> {
    return this.#execute('unarchiveCustomer', { input: customerInput('unarchiveCustomer', customerId) }, false);
  }

  async getActiveSubscriptions(input: GetActiveSubscriptionsInput): Promise<CustomerSubscription[]> {
    const m = 'getActiveSubscriptions';
    requireObject(m, 'input', input);
    requireId(m, 'input.customerId', input.customerId);
    optionalId(m, 'input.resourceId', input.resourceId);
    return this.#execute(m, { input }, false);
  }

  async getSubscription(subscriptionId: string | GetSubscriptionInput): Promise<CustomerSubscription> {
    const m = 'getSubscription';
    const input = typeof subscriptionId === 'string' ? { subscriptionId } : subscriptionId;
    requireObject(m, 'input', input);
    requireId(m, typeof subscriptionId === 'string' ? 'subscriptionId' : 'input.subscriptionId', input.subscriptionId);
    return this.#execute(m, { input }, false);
  }

  async provisionSubscription(input: ProvisionSubscriptionInput): Promise<ProvisionSubscriptionResult> {
    const m = 'provisionSubscription';
    requireObject(m, 'input', input);
    requireId(m, 'input.customerId', input.customerId);
    requireId(m, 'input.planId', input.planId);
    optionalId(m, 'input.resourceId', input.resourceId);
    return this.#execute(m, { input }, false);
  }

  async updateSubscription(input: UpdateSubscriptionInput): Promise<CustomerSubscription> {
    const m = 'updateSubscription';
    requireObject(m, 'input', input);
    requireEitherId(m, 'input.subscriptionId (or input.refId)', input.subscriptionId, input.refId);
    return this.#execute(m, { input }, false);
  }

  async cancelSubscription(input: SubscriptionCancellationInput): Promise<CustomerSubscription> {
    const m = 'cancelSubscription';
    requireObject(m, 'input', input);
    requireId(m, 'input.subscriptionRefId', input.subscriptionRefId);
    return this.#execute(m, { input }, false);
  }

  /** Moves the subscription to the latest published version of its plan and add-ons; resolves to the migrated subscription. */
  async migrateSubscriptionToLatest(input: SubscriptionMigrationInput): Promise<CustomerSubscription> {
    const m = 'migrateSubscriptionToLatest';
    requireObject(m, 'input', input);
    requireId(m, 'input.subscriptionId', input.subscriptionId);
    return this.#execute(m, { input }, false);
  }

  async estimateSubscription(input: EstimateSubscriptionInput): Promise<SubscriptionPreview> {
    const m = 'estimateSubscription';
    requireObject(m, 'input', input);
    requireId(m, 'input.customerId', input.customerId);
    requireId(m, 'input.planId', input.planId);
    optionalId(m, 'input.resourceId', input.resourceId);
    // A mutation on the wire, but it changes nothing: safe to retry like a read.
    return this.#execute(m, { input }, true);
  }

  async estimateSubscriptionUpdate(input: EstimateSubscriptionUpdateInput): Promise<SubscriptionPreview> {
    const m = 'estimateSubscriptionUpdate';
    requireObject(m, 'input', input);
    requireId(m, 'input.subscriptionId', input.subscriptionId);
    return this.#execute(m, { input }, true);
  }

  async getEntitlement(query: FetchEntitlementQuery): Promise<Entitlement> {
    const m = 'getEntitlement';
    requireObject(m, 'query', query);
    requireId(m, 'query.customerId', query.customerId);
    requireId(m, 'query.featureId', query.featureId);
    optionalId(m, 'query.resourceId', query.resourceId);
    if (query.options !== undefined && query.options !== null) {
      requireObject(m, 'query.options', query.options);
      const { requestedUsage } = query.options;
      if (requestedUsage !== undefined && requestedUsage !== null) {
        requireFinite(m, 'query.options.requestedUsage', requestedUsage);
        if (requestedUsage < 0)
          throw new TypeError(`StiggClient.${m}(): query.options.requestedUsage must be >= 0 (got ${requestedUsage}).`);
      }
    }
    return this.#execute(m, { query }, false);
  }

  async getEntitlements(query: FetchEntitlementsQuery): Promise<Entitlement[]> {
    const m = 'getEntitlements';
    requireObject(m, 'query', query);
    requireId(m, 'query.customerId', query.customerId);
    optionalId(m, 'query.resourceId', query.resourceId);
    return this.#execute(m, { query }, false);
  }

  /** Every entitlement of a customer (and resource) in one read, and why there are none (Stigg's SDKs decide from it locally). */
  async getEntitlementsState(query: FetchEntitlementsQuery): Promise<Operations['getEntitlementsState']['result']> {
    const m = 'getEntitlementsState';
    requireObject(m, 'query', query);
    requireId(m, 'query.customerId', query.customerId);
    optionalId(m, 'query.resourceId', query.resourceId);
    return this.#execute(m, { query }, false);
  }

  /** Retried on transient failures only when the input carries an idempotencyKey. */
  async reportUsage(input: ReportUsageInput): Promise<UsageMeasurementWithCurrentUsage> {
    const m = 'reportUsage';
    checkUsage(m, 'input', input);
    return this.#execute(m, { input }, hasKey(input));
  }

  /** Retried on transient failures only when every usage carries an idempotencyKey. */
  async reportUsageBulk(input: ReportUsageBulkInput, options?: RequestOptions): Promise<UsageMeasurementWithCurrentUsage[]> {
    const m = 'reportUsageBulk';
    requireObject(m, 'input', input);
    requireNonEmptyArray(m, 'input.usages', input.usages);
    input.usages.forEach((usage, index) => checkUsage(m, `input.usages[${index}]`, usage));
    return this.#execute(m, { input }, input.usages.every(hasKey), signalOf(m, options));
  }

  /** Raw events; each needs an idempotencyKey, so a failed delivery is always safe to retry. */
  async reportEvent(events: UsageEventsReportInput): Promise<void> {
    const m = 'reportEvent';
    requireObject(m, 'events', events);
    requireNonEmptyArray(m, 'events.usageEvents', events.usageEvents);
    events.usageEvents.forEach(function checkEvent(event, index) {
      const label = `events.usageEvents[${index}]`;
      requireObject(m, label, event);
      requireId(m, `${label}.customerId`, event.customerId);
      requireId(m, `${label}.eventName`, event.eventName);
      requireId(m, `${label}.idempotencyKey`, event.idempotencyKey);
      optionalId(m, `${label}.resourceId`, event.resourceId);
    });
    await this.#execute(m, { events }, true);
  }

  /**
   * Tells Stigg about entitlement checks the app made (its analytics, its `entitlement.denied` /
   * `entitlement.granted` webhooks). One check is the operation's document; an array of up to
   * MAX_CHECKS_PER_CALL (200) goes in ONE call, as a document of that many aliased fields (Stigg's
   * mutation takes one check each). True when Stigg took every one. Not retried once sent: a repeat
   * would count the checks twice.
   */
  async reportEntitlementCheckRequested(
    entitlementCheckRequested: EntitlementCheckRequested | readonly EntitlementCheckRequested[],
  ): Promise<boolean> {
    const m = 'reportEntitlementCheckRequested';
    if (!Array.isArray(entitlementCheckRequested)) {
      const single = entitlementCheckRequested as EntitlementCheckRequested;
      checkReport(m, 'entitlementCheckRequested', single);
      return this.#execute(m, { entitlementCheckRequested: single }, false);
    }
    const checks: readonly EntitlementCheckRequested[] = entitlementCheckRequested;
    requireNonEmptyArray(m, 'entitlementCheckRequested', checks);
    if (checks.length > MAX_CHECKS_PER_CALL) {
      throw new TypeError(`StiggClient.${m}(): at most ${MAX_CHECKS_PER_CALL} checks per call (got ${checks.length}).`);
    }
    checks.forEach((check, index) => checkReport(m, `entitlementCheckRequested[${index}]`, check));
    const data = await this.#send(checkBatchOperation(checks.length), checkBatchVariables(checks), false);
    return data === true;
  }

  async getCoupons(args: GetCouponsArgs = {}): Promise<CouponConnection> {
    const given: unknown = args; // not `args` itself: the assertion would narrow its fields to unknown
    requireObject('getCoupons', 'args', given);
    // Stigg's coupons query takes no `sorting` (no official document passes one): a typo or a leftover fails here.
    rejectUnknownOptions(args, ['filter', 'paging'], 'StiggClient.getCoupons()');
    const { filter, paging } = args;
    return this.#execute('getCoupons', { filter, paging }, false);
  }

  async grantPromotionalEntitlements(input: GrantPromotionalEntitlementsInput): Promise<PromotionalEntitlement[]> {
    const m = 'grantPromotionalEntitlements';
    requireObject(m, 'input', input);
    requireId(m, 'input.customerId', input.customerId);
    requireNonEmptyArray(m, 'input.promotionalEntitlements', input.promotionalEntitlements);
    input.promotionalEntitlements.forEach(function checkGrant(grant, index) {
      requireObject(m, `input.promotionalEntitlements[${index}]`, grant);
      requireId(m, `input.promotionalEntitlements[${index}].featureId`, grant.featureId);
      requireId(m, `input.promotionalEntitlements[${index}].period`, grant.period);
    });
    return this.#execute(m, { input }, false);
  }

  async revokePromotionalEntitlement(input: RevokePromotionalEntitlementInput): Promise<PromotionalEntitlement> {
    const m = 'revokePromotionalEntitlement';
    requireObject(m, 'input', input);
    requireId(m, 'input.customerId', input.customerId);
    requireId(m, 'input.featureId', input.featureId);
    return this.#execute(m, { input }, false);
  }

  /** A customer's credit balances, per currency (`input.currencyId` for one). */
  async getCreditBalance(input: CreditBalanceSummaryInput): Promise<CreditBalanceSummary> {
    requireObject('getCreditBalance', 'input', input);
    requireId('getCreditBalance', 'input.customerId', input.customerId);
    return this.#execute('getCreditBalance', { input }, false);
  }

  async getCreditGrants(input: GetCreditGrantsInput): Promise<Operations['getCreditGrants']['result']> {
    requireObject('getCreditGrants', 'input', input);
    requireId('getCreditGrants', 'input.customerId', input.customerId);
    return this.#execute('getCreditGrants', { input }, false);
  }

  /** The ledger of a customer's credits: grants, consumptions, expiries, voids. */
  async getCreditLedger(input: CreditLedgerInput): Promise<Operations['getCreditLedger']['result']> {
    requireObject('getCreditLedger', 'input', input);
    requireId('getCreditLedger', 'input.customerId', input.customerId);
    return this.#execute('getCreditLedger', { input }, false);
  }

  /** Never retried once sent: Stigg's createCreditGrant takes no idempotency key. */
  async grantCredits(input: CreditGrantInput): Promise<CreditGrant> {
    checkGrant('grantCredits', input);
    return this.#execute('grantCredits', { input }, false);
  }

  async voidCreditGrant(input: VoidCreditGrantInput): Promise<CreditGrant> {
    requireObject('voidCreditGrant', 'input', input);
    requireId('voidCreditGrant', 'input.id', input.id);
    return this.#execute('voidCreditGrant', { input }, false);
  }

  /** Direct consumption from a wallet; the required idempotencyKey makes every retry safe. */
  async consumeCredits(input: ConsumeCreditInput): Promise<CreditConsumption> {
    checkConsumption('consumeCredits', 'input', input);
    return this.#execute('consumeCredits', { input }, true);
  }

  /** Up to 1,000 consumptions, reconciled by Stigg later; each carries its idempotencyKey. */
  async consumeCreditsAsync(input: ConsumeCreditsAsyncInput): Promise<string | null> {
    checkAsyncConsumptions('consumeCreditsAsync', input);
    return this.#execute('consumeCreditsAsync', { input }, true);
  }

  /**
   * Sends one operation, retrying transient failures when that cannot apply a change twice: always
   * for queries and `safeToRepeat` mutations, otherwise only when the request provably never left.
   */
  async #execute<K extends OperationName>(
    name: K,
    variables: Operations[K]['variables'],
    safeToRepeat: boolean,
    signal?: AbortSignal,
  ): Promise<Operations[K]['result']> {
    return (await this.#send(loadOperation(name), variables, safeToRepeat, signal)) as Operations[K]['result'];
  }

  async #send(operation: LoadedOperation, variables: object, safeToRepeat: boolean, signal?: AbortSignal): Promise<unknown> {
    const config = this.#config;
    const { name } = operation;
    const repeatable = safeToRepeat || operation.kind === 'query';
    for (let attempt = 0; ; attempt += 1) {
      if (signal !== undefined && isAborted(signal)) throw aborted(name, signal);
      try {
        return await sendOnce(config, operation, variables, signal);
      } catch (error) {
        if (signal !== undefined && isAborted(signal)) throw aborted(name, signal);
        if (!(error instanceof StiggError) || !error.transient || attempt >= config.maxRetries) throw error;
        const neverSent = error instanceof StiggNetworkError && !error.requestSent;
        if (!repeatable && !neverSent) throw error;
        const delay = this.#backoff(error, attempt);
        if (delay === undefined) throw error;
        config.logger?.debug?.(
          {
            operation: name,
            attempt: attempt + 1,
            maxRetries: config.maxRetries,
            error: error.name,
            message: error.message,
          },
          `stigg: retrying ${name} in ${Math.round(delay)} ms`,
        );
        await sleep(delay, signal);
      }
    }
  }

  /** Full-jitter exponential backoff; a Retry-After is honoured, unless it exceeds maxRetryDelayMs (then undefined: stop). */
  #backoff(error: StiggError, attempt: number): number | undefined {
    const { retryBaseDelayMs, maxRetryDelayMs } = this.#config;
    if (error instanceof StiggHttpError && error.retryAfterMs !== undefined) {
      return error.retryAfterMs <= maxRetryDelayMs ? error.retryAfterMs : undefined;
    }
    return Math.random() * Math.min(maxRetryDelayMs, retryBaseDelayMs * 2 ** attempt);
  }
}

/**
 * `Stigg.createClient(apiKey?, options?)`, as in Stigg's own SDKs. Without a key it reads
 * STIGG_SERVER_API_KEY (a missing or blank one is a TypeError here, not a failure later); without
 * `apiUrl`, STIGG_API_URL when set.
 */
const LOCAL_FIXTURES_KEY = 'stigg-gate-local-fixtures';

function localEnvironmentKey(): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['STIGG_SERVER_API_KEY']?.trim();
}

export const Stigg = Object.freeze({
  createClient(apiKey?: string, options: StiggCreateClientOptions = {}): StiggClient {
    const local = localOverrides();
    if (local === undefined) return new StiggClient(resolveCreateClientOptions(apiKey, options));
    // Local fixtures (STIGG_GATE_OVERRIDES) answer entitlements: no key is needed for them.
    const key = apiKey ?? (localEnvironmentKey() || LOCAL_FIXTURES_KEY);
    return local(new StiggClient(resolveCreateClientOptions(key, options)));
  },
});
