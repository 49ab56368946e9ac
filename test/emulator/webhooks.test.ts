import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultCatalog, EmulatorState, startEmulator, type Emulator } from '../../src/emulator';
import { createWebhookSender } from '../../src/emulator/webhooks';
import { post, PROVISION_CUSTOMER, T0 } from './helpers';

interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A loopback receiver that answers the statuses it is given in turn (then 200). */
async function receiver(statuses: number[] = []): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/stigg/webhooks`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const PROVISION_SUBSCRIPTION = /* GraphQL */ `
  mutation P($input: ProvisionSubscriptionInput!) {
    provisionSubscriptionV2(input: $input) {
      status
      subscription {
        subscriptionId
        status
      }
    }
  }
`;
const CANCEL = /* GraphQL */ `
  mutation C($input: SubscriptionCancellationInput!) {
    cancelSubscription(input: $input) {
      status
    }
  }
`;
const GRANT = /* GraphQL */ `
  mutation G($input: GrantPromotionalEntitlementsInput!) {
    grantPromotionalEntitlements(input: $input) {
      id
    }
  }
`;
const REVOKE = /* GraphQL */ `
  mutation R($input: RevokePromotionalEntitlementInput!) {
    revokePromotionalEntitlement(input: $input) {
      id
    }
  }
`;
const UUID = expect.stringMatching(/^[0-9a-f-]{36}$/);

describe('emulator webhooks', () => {
  let emulator: Emulator;
  let hooks: Awaited<ReturnType<typeof receiver>>;

  beforeEach(async () => {
    hooks = await receiver();
    emulator = await startEmulator({ now: () => T0, webhooks: { url: hooks.url, secret: 'whsec-test' } });
  });
  afterEach(async () => {
    await emulator.stop();
    await hooks.close();
  });

  it('a new subscription POSTs subscription.created then entitlements.updated, with the secret header, in the agreed shape', async () => {
    await post(emulator, PROVISION_CUSTOMER, { input: { customerId: 'c' } });
    const res = await post<{ provisionSubscriptionV2: { subscription: { subscriptionId: string } } }>(emulator, PROVISION_SUBSCRIPTION, {
      input: { customerId: 'c', planId: 'plan-revvenu-essentials' },
    });
    const subscriptionId = res.data?.provisionSubscriptionV2.subscription.subscriptionId;
    await emulator.webhooksSettled();

    expect(hooks.received.map((r) => r.body.type)).toEqual(['subscription.created', 'entitlements.updated']);
    for (const { headers } of hooks.received) {
      expect(headers['content-type']).toBe('application/json');
      expect(headers['stigg-webhooks-secret']).toBe('whsec-test');
    }
    const [subscription, entitlements] = hooks.received.map((r) => r.body);
    const envelope = {
      messageId: UUID,
      traceId: UUID,
      eventId: UUID,
      timestamp: new Date(T0).toISOString(),
      environmentId: null,
    };
    expect(subscription).toEqual({
      ...envelope,
      type: 'subscription.created',
      customer: { id: 'c' },
      subscription: { id: subscriptionId, status: 'ACTIVE', plan: { id: 'plan-revvenu-essentials' } },
    });
    expect(entitlements).toMatchObject({
      ...envelope,
      type: 'entitlements.updated',
      trigger: 'subscription_created',
      customer: { id: 'c' },
      resource: null,
      entitlementsUpdatedAt: new Date(T0).toISOString(),
    });
    expect(subscription?.traceId).toBe(entitlements?.traceId);
    expect(subscription?.messageId).not.toBe(entitlements?.messageId);
    const byFeature = Object.fromEntries((entitlements?.entitlements as Array<{ feature: { id: string } }>).map((e) => [e.feature.id, e]));
    expect(Object.keys(byFeature).sort()).toEqual(['feature-01-templates', 'feature-02-campaigns', 'feature-03-custom-domain']);
    expect(byFeature['feature-02-campaigns']).toEqual({
      feature: { id: 'feature-02-campaigns', featureType: 'NUMBER', meterType: 'Incremental' },
      usageLimit: 20,
      hasUnlimitedUsage: false,
      hasSoftLimit: false,
      currentUsage: 0,
      usagePeriodEnd: '2026-02-15T10:00:00.000Z',
      resetPeriod: 'MONTH',
    });
    expect(emulator.stats().webhooks).toEqual({
      failed: 0,
      deliveries: [
        {
          type: 'subscription.created',
          customerId: 'c',
          messageId: subscription?.messageId,
          status: 200,
          attempts: 1,
          delivered: true,
        },
        {
          type: 'entitlements.updated',
          customerId: 'c',
          messageId: entitlements?.messageId,
          status: 200,
          attempts: 1,
          delivered: true,
        },
      ],
    });
  });

  it('cancel, promotional grant and revoke each send entitlements.updated with their trigger; reading sends nothing', async () => {
    await post(emulator, PROVISION_CUSTOMER, {
      input: { customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } },
    });
    await emulator.webhooksSettled();
    hooks.received.length = 0;
    const [sub] = emulator.state.getActiveSubscriptions({ customerId: 'c' }) as Array<{ subscriptionId: string }>;
    await post(emulator, CANCEL, { input: { subscriptionRefId: sub?.subscriptionId } });
    await post(emulator, GRANT, {
      input: { customerId: 'c', promotionalEntitlements: [{ featureId: 'feature-04-analytics', period: 'ONE_WEEK' }] },
    });
    await post(emulator, REVOKE, { input: { customerId: 'c', featureId: 'feature-04-analytics' } });
    await post(emulator, 'query Q($q: FetchEntitlementQuery!) { entitlement(query: $q) { isGranted } }', {
      q: { customerId: 'c', featureId: 'feature-04-analytics' },
    });
    await emulator.webhooksSettled();
    expect(hooks.received.map((r) => [r.body.type, r.body.trigger ?? (r.body.subscription as { status: string }).status])).toEqual([
      ['subscription.canceled', 'CANCELED'],
      ['entitlements.updated', 'subscription_canceled'],
      ['entitlements.updated', 'promotional_entitlement_granted'],
      ['entitlements.updated', 'promotional_entitlement_revoked'],
    ]);
    const afterGrant = hooks.received[2]?.body.entitlements as Array<{ feature: { id: string } }>;
    expect(afterGrant.map((e) => e.feature.id)).toEqual(['feature-04-analytics']);
    expect(hooks.received[3]?.body.entitlements).toEqual([]);
  });

  it('retries a failed delivery with backoff and counts deliveries that never succeed; the GraphQL answer never waits', async () => {
    await emulator.stop();
    await hooks.close();
    hooks = await receiver([500, 503]);
    emulator = await startEmulator({ now: () => T0, webhooks: { url: hooks.url } });
    const started = performance.now();
    await post(emulator, PROVISION_CUSTOMER, {
      input: { customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } },
    });
    expect(hooks.received.length).toBeLessThan(3); // answered before the retries (100 ms, then 400 ms later) were made
    await emulator.webhooksSettled();
    expect(performance.now() - started).toBeGreaterThanOrEqual(100 + 400 - 20);
    expect(hooks.received.map((r) => r.body.type)).toEqual([
      'subscription.created',
      'subscription.created',
      'subscription.created',
      'entitlements.updated',
    ]);
    expect(hooks.received[0]?.headers['stigg-webhooks-secret']).toBeUndefined();
    expect(emulator.stats().webhooks.deliveries.map((d) => [d.type, d.attempts, d.status, d.delivered])).toEqual([
      ['subscription.created', 3, 200, true],
      ['entitlements.updated', 1, 200, true],
    ]);

    // Nothing listens: four attempts each (backoff shortened here), then counted as failed.
    const state = new EmulatorState(defaultCatalog, { now: () => T0, set: () => undefined, advance: () => undefined });
    const sender = createWebhookSender({ url: 'http://127.0.0.1:9/nothing-listens' }, state, { firstBackoffMs: 1 });
    state.onChange = (event) => sender.send(event);
    state.provisionCustomer({ customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } });
    await sender.settled();
    expect(state.stats().webhooks).toMatchObject({
      failed: 2,
      deliveries: [
        { type: 'subscription.created', status: 0, attempts: 4, delivered: false },
        { type: 'entitlements.updated', status: 0, attempts: 4, delivered: false },
      ],
    });
    await sender.stop();
  });

  it('rejects bad webhook options at start', async () => {
    await expect(startEmulator({ webhooks: { url: 'ftp://x' } })).rejects.toThrow('is not a valid value for webhooks.url');
    await expect(startEmulator({ webhooks: { url: 'http://127.0.0.1:1', secrett: 'x' } as never })).rejects.toThrow(
      '"secrett" is not an option of startEmulator({ webhooks }). Did you mean "secret"?',
    );
    await expect(startEmulator({ webhooks: { url: 'http://127.0.0.1:1', secret: '' } })).rejects.toThrow(
      'webhooks.secret must be a non-empty string',
    );
  });
});
