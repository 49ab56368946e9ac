import request from 'supertest';
import { currentRequestContext, enableRequestContext, isRequestContextEnabled, requestContextStorage } from '../../src/core/context';
import { FakeEntitlements } from './fake';
import { CUSTOMER_HEADER, adapters } from './harness';

// Its own file: enableRequestContext() is process-wide and cannot be undone within a module registry.

describe.each(adapters)('$name: the AsyncLocalStorage request context', (adapter) => {
  const seen: unknown[] = [];
  function build(entitlements: FakeEntitlements) {
    return adapter.build({
      entitlements,
      routes: [{ method: 'post', path: '/m', gates: [{ featureId: 'f', usage: 1 }] }],
      stigg: {
        customer: (v) => {
          seen.push(requestContextStorage.getStore());
          return v.headers[CUSTOMER_HEADER];
        },
      },
    });
  }

  test('stigg() enters the context only once enableRequestContext() was called, and it carries the customer', async () => {
    seen.length = 0;
    const fake = new FakeEntitlements();
    if (!isRequestContextEnabled()) {
      await request(build(fake).server).post('/m').set(CUSTOMER_HEADER, 'c1').expect(200);
      expect(seen).toEqual([undefined]);
      enableRequestContext();
    }
    // Code called after awaits (like a decorated service method) sees the same context as the gate.
    let seenLater: { entitlements?: unknown; customer?: unknown } = {};
    fake.answer = async (input) => {
      await new Promise((resolve) => setImmediate(resolve));
      const context = currentRequestContext();
      seenLater = { entitlements: context?.entitlements, customer: await context?.customerId() };
      return fake.lease(input, true);
    };
    seen.length = 0;
    await request(build(fake).server).post('/m').set(CUSTOMER_HEADER, 'c2').expect(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toHaveProperty('customerId');
    expect(seenLater).toEqual({ entitlements: fake, customer: 'c2' });
  });
});
