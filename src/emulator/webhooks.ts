import { randomUUID } from 'node:crypto';
import type { RecordedCheckReport } from './check-reports';
import type { EmulatorWebhooks } from './options';
import type { EmulatorState } from './state';
import type { ChangeEvent, ChangeTrigger, Json } from './store';
import { iso } from './time';

const ATTEMPTS = 4;
const FIRST_BACKOFF_MS = 100;
const TIMEOUT_MS = 5_000;
const DELIVERY_LOG = 1_000;

const SUBSCRIPTION_TYPES: Partial<Record<ChangeTrigger, string>> = {
  subscription_created: 'subscription.created',
  subscription_updated: 'subscription.updated',
  subscription_canceled: 'subscription.canceled',
};

export interface WebhookSender {
  /** Builds the webhooks of one change now (their content is the state at this instant) and queues them. */
  send(event: ChangeEvent): void;
  /** entitlement.requested, then entitlement.granted or entitlement.denied, for one reported check. */
  sendCheck(report: RecordedCheckReport): void;
  /** Resolves when every queued webhook is delivered or given up. */
  settled(): Promise<void>;
  /** No more retries; waits for the attempt in flight. */
  stop(): Promise<void>;
}

/** The bodies Stigg sends for one change: subscription.* (for subscription changes) then entitlements.updated. */
export function webhookBodies(state: EmulatorState, event: ChangeEvent): Json[] {
  const now = iso(state.clock.now());
  const traceId = randomUUID();
  const envelope = (): Json => ({
    messageId: randomUUID(),
    traceId,
    timestamp: now,
    environmentId: null,
    eventId: randomUUID(),
  });
  const bodies: Json[] = [];
  const subscriptionType = SUBSCRIPTION_TYPES[event.trigger];
  if (subscriptionType !== undefined && event.subscription !== null) {
    bodies.push({
      ...envelope(),
      type: subscriptionType,
      customer: { id: event.customerId },
      subscription: {
        id: event.subscription.id,
        status: event.subscription.status,
        plan: { id: event.subscription.planId },
      },
    });
  }
  const entitlements = state.entitlementsOf(event.customerId, event.resourceId).map((e) => {
    const feature = e.feature as Json | null;
    return {
      feature: {
        id: feature?.refId ?? null,
        featureType: feature?.featureType ?? null,
        meterType: feature?.meterType ?? null,
      },
      usageLimit: e.usageLimit,
      hasUnlimitedUsage: e.hasUnlimitedUsage,
      hasSoftLimit: e.hasSoftLimit,
      currentUsage: e.currentUsage,
      usagePeriodEnd: e.usagePeriodEnd,
      resetPeriod: e.resetPeriod,
    };
  });
  bodies.push({
    ...envelope(),
    type: 'entitlements.updated',
    trigger: event.trigger,
    customer: { id: event.customerId },
    resource: event.resourceId === null ? null : { id: event.resourceId },
    entitlements,
    entitlementsUpdatedAt: now,
  });
  return bodies;
}

/**
 * Delivers webhooks one after the other (so a receiver sees them in order), never on the GraphQL
 * request's path; a failed POST (connection error, timeout, non-2xx) is retried with backoff, then
 * counted in stats().webhooks.failed.
 */
export function createWebhookSender(
  config: EmulatorWebhooks,
  state: EmulatorState,
  timing: { firstBackoffMs: number } = { firstBackoffMs: FIRST_BACKOFF_MS },
): WebhookSender {
  const controller = new AbortController();
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (config.secret !== undefined) headers['Stigg-Webhooks-Secret'] = config.secret;

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      controller.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  async function deliver(body: Json): Promise<void> {
    const stats = state.counters.webhooks;
    let status = 0;
    let attempts = 0;
    while (attempts < ATTEMPTS && !stopped) {
      if (attempts > 0) await wait(timing.firstBackoffMs * 4 ** (attempts - 1));
      if (stopped) break;
      attempts += 1;
      try {
        const response = await fetch(config.url, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(TIMEOUT_MS)]),
        });
        status = response.status;
        await response.arrayBuffer().catch(() => undefined);
        if (status >= 200 && status < 300) break;
      } catch {
        status = 0;
      }
    }
    const delivered = status >= 200 && status < 300;
    if (!delivered) stats.failed += 1;
    if (stats.deliveries.length >= DELIVERY_LOG) stats.deliveries.shift();
    stats.deliveries.push({
      type: String(body.type),
      customerId: String((body.customer as Json).id),
      messageId: String(body.messageId),
      status,
      attempts,
      delivered,
    });
  }

  return {
    send(event: ChangeEvent): void {
      if (stopped) return;
      const bodies = webhookBodies(state, event);
      for (const body of bodies) chain = chain.then(() => deliver(body));
    },
    sendCheck(report: RecordedCheckReport): void {
      if (stopped) return;
      const bodies = state.checkWebhookBodies(report);
      for (const body of bodies) chain = chain.then(() => deliver(body));
    },
    settled: () => chain,
    async stop(): Promise<void> {
      stopped = true;
      controller.abort();
      await chain;
    },
  };
}
