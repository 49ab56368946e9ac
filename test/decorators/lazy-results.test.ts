import 'reflect-metadata';
import { Observable } from 'rxjs';
import { createEntitlements } from '../../src/core';
import { RequireFeature, withCustomer } from '../../src/decorators';
import { customer, startRig } from '../core/helpers';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass 4 on issue 23 (decorators: "a method that throws reports nothing"). docs/decorators.md
// says decorated methods must return a promise, and the TypeScript signature refuses others, but
// nothing checks it at run time (JavaScript, or a cast): a method returning a lazy result (an async
// generator, an rxjs Observable) "completes" when it returns, before any of its work ran, so the
// reservation is committed at once, and work that then fails is charged. Measured (2 reserved each): an
// async generator that throws on its second step, 2 counted; an Observable that errors on
// subscription, 2 counted; the wrapper also turns the generator into a Promise of it (for await over the
// call is a TypeError).
// Now such a result is refused when the method returns (TypeError naming the fix) and the reservation
// released: 0 counted.

const CAMPAIGNS = 'feature-02-campaigns'; // basic plan: 4 a month
const rig = forSuite(() =>
  startRig(
    ['lazy-gen', 'lazy-obs'].map((id) => customer(id, 'plan-revvenu-basic')),
    {},
    { maxRetries: 0 },
  ),
);
const emu = onFirstUse(() => rig.emulator);
const client = onFirstUse(() => rig.client);

const decorate = RequireFeature(CAMPAIGNS, 2) as unknown as MethodDecorator;

class Completions {
  async *tokens(): AsyncGenerator<string> {
    yield 'first';
    throw new Error('the model went away');
  }

  stream(): Observable<string> {
    return new Observable<string>((subscriber) => subscriber.error(new Error('the model went away')));
  }
}
for (const name of ['tokens', 'stream'] as const) {
  const descriptor = Object.getOwnPropertyDescriptor(Completions.prototype, name)!;
  Object.defineProperty(Completions.prototype, name, decorate(Completions.prototype, name, descriptor) as PropertyDescriptor);
}

test('lazy results are refused when the method returns, and their reservation released', async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const service = new Completions() as unknown as { tokens(): Promise<AsyncGenerator<string>>; stream(): Promise<Observable<string>> };
  try {
    const generator = await withCustomer({ entitlements, customerId: 'lazy-gen' }, () => service.tokens()).catch((error: Error) => error);
    const observable = await withCustomer({ entitlements, customerId: 'lazy-obs' }, () => service.stream()).catch((error: Error) => error);
    await entitlements.flush();
    expect({
      generator: String(generator),
      observable: String(observable),
      counted: [emu.stats().usage[`lazy-gen||${CAMPAIGNS}`] ?? 0, emu.stats().usage[`lazy-obs||${CAMPAIGNS}`] ?? 0],
    }).toEqual({
      generator: expect.stringMatching(/^TypeError: Completions.tokens returned an async iterator or an Observable/),
      observable: expect.stringMatching(/^TypeError: Completions.stream returned an async iterator or an Observable/),
      counted: [0, 0],
    });
    // Nothing is held: the full 4 are there.
    const lease = await entitlements.acquire({ customerId: 'lazy-gen', featureId: CAMPAIGNS, requestedUsage: 4 });
    expect(lease.decision.granted).toBe(true);
    lease.release();
  } finally {
    await entitlements.close();
  }
});
