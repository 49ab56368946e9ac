// Run: npx jest --testMatch '**/*.repro.ts' -- test/attack/repro/decorator-lazy-results.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing the break makes it fail: flip it into a
// test then (0 counted for work that failed, or the decoration refused).
import 'reflect-metadata';
import { Observable, lastValueFrom } from 'rxjs';
import { StiggClient } from '../../../src/client';
import { createEntitlements } from '../../../src/core';
import { RequireFeature, withCustomer } from '../../../src/decorators';
import { defaultCatalog, startEmulator, type Emulator } from '../../../src/emulator';

// Adversarial pass 4 on issue 23 (decorators: "a method that throws reports nothing"). docs/decorators.md
// says decorated methods must return a promise, and the TypeScript signature refuses others, but
// nothing checks it at run time (JavaScript, or a cast): a method returning a lazy result (an async
// generator, an rxjs Observable) "completes" when it returns, before any of its work ran, so the
// reservation is committed at once, and work that then fails is charged. Measured (2 reserved each): an
// async generator that throws on its second step, 2 counted; an Observable that errors on
// subscription, 2 counted; the wrapper also turns the generator into a Promise of it (for await over the
// call is a TypeError).
// Fix hint: refuse an async generator function at decoration time (Object.prototype.toString of the
// method is [object AsyncGeneratorFunction]) and a result with Symbol.asyncIterator or subscribe() at
// call time (TypeError, released), or follow them (commit when the iteration completes / the observable
// completes, release on their error).

const CAMPAIGNS = 'feature-02-campaigns'; // basic plan: 4 a month
let emu: Emulator;
let client: StiggClient;
beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: ['lazy-gen', 'lazy-obs'].map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
    },
  });
  client = new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 });
});
afterAll(() => emu.stop());

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

test('lazy results: committed when the method returns, charged when their work then fails', async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const service = new Completions() as unknown as { tokens(): Promise<AsyncGenerator<string>>; stream(): Promise<Observable<string>> };
  try {
    const generator = await withCustomer({ entitlements, customerId: 'lazy-gen' }, () => service.tokens());
    const iterated = await (async () => {
      for await (const token of generator) void token;
    })().catch((error: unknown) => String(error));
    const observable = await withCustomer({ entitlements, customerId: 'lazy-obs' }, () => service.stream());
    const subscribed = await lastValueFrom(observable).catch((error: unknown) => String(error));
    await entitlements.flush();
    expect({
      iterated,
      subscribed,
      generator: emu.stats().usage[`lazy-gen||${CAMPAIGNS}`] ?? 0,
      observable: emu.stats().usage[`lazy-obs||${CAMPAIGNS}`] ?? 0,
    }).toEqual({ iterated: 'Error: the model went away', subscribed: 'Error: the model went away', generator: 2, observable: 2 });
  } finally {
    await entitlements.close();
  }
});
