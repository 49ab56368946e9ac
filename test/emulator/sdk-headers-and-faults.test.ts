import { startEmulator, type Emulator } from '../../src/emulator';
import { ENTITLEMENT, post, PROVISION_CUSTOMER, T0 } from './helpers';

/** The headers Stigg's SDKs send (node-server-sdk's buildRequestHeaders, api-client-js's operation-name wrapper). */
const SDK_HEADERS = {
  source: 'NODE_SERVER_SDK',
  'X-SDK-INSTANCE-ID': '6b0f4f0e-5a59-4ad2-9d4f-4b8f0a9e7f01',
  'X-SDK-OS-PROCESS-HOSTNAME': 'host',
  'X-SDK-OS-PROCESS-ID': '4242',
  'X-SDK-OS-PROCESS-TIMESTAMP': '1700000000000',
  'X-SDK-OS-PROCESS-FINGERPRINT': 'abc',
  'x-graphql-operation-name': 'GetEntitlement',
};

describe('emulator: SDK headers, CORS, the unknown-reason fault, option checks', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ now: () => T0 });
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    emulator.setFaults({ accessDeniedReason: null });
  });

  it("accepts the headers Stigg's SDKs send", async () => {
    const res = await post(
      emulator,
      ENTITLEMENT,
      { query: { customerId: 'c', featureId: 'feature-01-templates' } },
      { 'X-API-KEY': emulator.apiKey, ...SDK_HEADERS },
    );
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ entitlement: { isGranted: false, accessDeniedReason: 'CustomerNotFound' } });
  });

  it('by default refuses a request from another origin (403, no CORS headers) and answers servers, which send none', async () => {
    for (const method of ['OPTIONS', 'POST']) {
      const refused = await fetch(emulator.url, {
        method,
        headers: { origin: 'http://evil.example', 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
        ...(method === 'POST' ? { body: JSON.stringify({ query: '{ sdkConfiguration { sentryDsn } }' }) } : {}),
      });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(await refused.text()).toMatch(/cors: \['http:\/\/evil.example'\].*--cors/);
    }
    const stats = await fetch(emulator.url.replace(/\/graphql$/, '/stats'), {
      headers: { origin: 'http://evil.example', 'x-api-key': emulator.apiKey },
    });
    expect(stats.status).toBe(403);
    const server = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
      body: JSON.stringify({ query: '{ sdkConfiguration { sentryDsn } }' }),
    });
    expect(server.status).toBe(200);
    expect(server.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('with cors set, answers a preflight from an allowed origin with the methods and headers the browser asks for, and its answers', async () => {
    const allowing = await startEmulator({ port: 0, cors: ['http://localhost:5173'] });
    try {
      const preflight = await fetch(allowing.url, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:5173',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-api-key,source,x-sdk-version,content-type',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
      expect(preflight.headers.get('access-control-allow-headers')).toBe('x-api-key,source,x-sdk-version,content-type');
      const answer = await fetch(allowing.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': allowing.apiKey, origin: 'http://localhost:5173' },
        body: JSON.stringify({ query: '{ sdkConfiguration { sentryDsn isWidgetWatermarkEnabled } }' }),
      });
      expect(answer.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(await answer.json()).toEqual({
        data: { sdkConfiguration: { sentryDsn: null, isWidgetWatermarkEnabled: false } },
      });
      const other = await fetch(allowing.url, { method: 'OPTIONS', headers: { origin: 'http://localhost:3000' } });
      expect(other.status).toBe(403);
    } finally {
      await allowing.stop();
    }
    await expect(startEmulator({ port: 0, cors: ['localhost:5173'] })).rejects.toThrow(/cors.*http:\/\/localhost:5173/);
  });

  it('warns when it listens beyond loopback with the default key', async () => {
    const warned = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const exposed = await startEmulator({ port: 0, host: '0.0.0.0' });
      await exposed.stop();
      const keyed = await startEmulator({ port: 0, host: '0.0.0.0', apiKey: 'a-private-key' });
      await keyed.stop();
      expect(warned.mock.calls.map((call) => String(call[0]))).toEqual([
        expect.stringMatching(/0\.0\.0\.0 with the well-known default API key/),
      ]);
    } finally {
      warned.mockRestore();
    }
  });

  it("serves the edge API's read routes with the API key: entitlements, active subscriptions, SDK configuration", async () => {
    await post(emulator, PROVISION_CUSTOMER, {
      input: { customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } },
    });
    const origin = emulator.url.replace(/\/graphql$/, '');
    const get = (path: string, key: string | null = emulator.apiKey) =>
      fetch(`${origin}${path}`, { headers: key === null ? {} : { 'X-API-KEY': key, 'X-API-VERSION': '1' } });
    expect((await get('/v1/c/c/entitlements.json', null)).status).toBe(401);
    const entitlements = (await (await get('/v1/c/c/entitlements.json')).json()) as {
      data: { entitlements: Array<{ feature: { refId: string }; usageLimit: number }> };
    };
    expect(entitlements.data.entitlements.map((e) => [e.feature.refId, e.usageLimit])).toEqual([
      ['feature-01-templates', 3],
      ['feature-02-campaigns', 4],
    ]);
    expect(await (await get('/v1/c/nobody/entitlements.json')).json()).toEqual({ data: { entitlements: [] } });
    const subscriptions = (await (await get('/v1/c/c/subscriptions.json')).json()) as {
      data: { getActiveSubscriptions: Array<{ plan: { planId: string } }> };
    };
    expect(subscriptions.data.getActiveSubscriptions.map((s) => s.plan.planId)).toEqual(['plan-revvenu-basic']);
    const unknown = (await (await get('/v1/c/nobody/subscriptions.json')).json()) as {
      errors: Array<{ extensions: { code: string } }>;
    };
    expect(unknown.errors[0]?.extensions.code).toBe('CustomerNotFound');
    expect(await (await get('/v1/config/server-sdk-configuration.json')).json()).toEqual({
      data: { sdkConfiguration: { sentryDsn: null, isWidgetWatermarkEnabled: false, showWatermark: false } },
    });
    const paywall = await get('/v1/paywall.json');
    expect(paywall.status).toBe(404);
    expect(((await paywall.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code).toBe('NOT_MODELLED');
  });

  it('the accessDeniedReason fault answers a reason this schema does not list (EntitlementNotFound) on every denial, verbatim', async () => {
    await post(emulator, PROVISION_CUSTOMER, {
      input: { customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } },
    });
    const check = async (featureId: string): Promise<unknown> =>
      (await post(emulator, ENTITLEMENT, { query: { customerId: 'c', featureId } })).data;
    emulator.setFaults({ accessDeniedReason: 'EntitlementNotFound' });
    expect(await check('feature-04-analytics')).toMatchObject({
      entitlement: { isGranted: false, accessDeniedReason: 'EntitlementNotFound' },
    });
    expect(await check('feature-01-templates')).toMatchObject({
      entitlement: { isGranted: true, accessDeniedReason: null },
    });
    emulator.setFaults({ accessDeniedReason: null });
    expect(await check('feature-04-analytics')).toMatchObject({
      entitlement: { isGranted: false, accessDeniedReason: 'NoFeatureEntitlementInSubscription' },
    });

    const started = await startEmulator({ accessDeniedReason: 'EntitlementNotFound' });
    try {
      expect((await post(started, ENTITLEMENT, { query: { customerId: 'nobody', featureId: 'f' } })).data).toMatchObject({
        entitlement: { accessDeniedReason: 'EntitlementNotFound' },
      });
    } finally {
      await started.stop();
    }
    expect(() => emulator.setFaults({ accessDeniedReason: 'no spaces' })).toThrow('is not a valid value for accessDeniedReason');
  });

  it('unknown options of startEmulator() and setFaults() throw with a did-you-mean', async () => {
    await expect(startEmulator({ faliureRate: 0.5 } as never)).rejects.toThrow(
      '"faliureRate" is not an option of startEmulator(). Did you mean "failureRate"?',
    );
    await expect(startEmulator({ webhook: { url: 'http://127.0.0.1:1' } } as never)).rejects.toThrow('Did you mean "webhooks"?');
    expect(() => emulator.setFaults({ latency: 5 } as never)).toThrow(
      '"latency" is not an option of setFaults(). Did you mean "latencyMs"?',
    );
  });
});
