import 'reflect-metadata';
import http from 'node:http';
import express from 'express';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Logger } from '../../src/core/types';
import { InvalidUsageError, ReportUsage, RequireFeature, withCustomer } from '../../src/decorators';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import * as ex from '../../src/middleware/express';
import { close, listen } from './harness';
import { rawPost } from './hangup';
import { forSuite, onFirstUse } from '../support/suite';
import { sleep } from '../support/time';

// Adversarial pass 4 on issue 23: an onAbort function (or a decorator's settle / @ReportUsage value
// function) written `async` returns a promise, which is no unit count: the reservation is reported and
// the error logged (docs/usage.md). When that promise rejected, nothing handled the rejection: Node's
// default (--unhandled-rejections=throw) ends the process, every request in flight with it. Measured:
// jest failed the suite with the function's own error ("Test suite failed to run"), after the
// reservation (2 units) was reported. The promise's rejection is now handled (and logged for onAbort).

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
const CAMPAIGNS = 'feature-02-campaigns'; // basic plan: 4 a month
const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: ['ar-1', 'ar-2', 'ar-3'].map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
    },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }));

const usage = (id: string, featureId: string): number => emu.stats().usage[`${id}||${featureId}`] ?? 0;

/** A rejected promise that records whether anyone handles its rejection. */
function rejected(): { promise: Promise<number>; handled: () => boolean } {
  const promise = Promise.reject(new Error('the token counter is down'));
  let handled = false;
  const then = promise.then.bind(promise);
  promise.then = ((onFulfilled?: never, onRejected?: never) => {
    if (typeof onRejected === 'function') handled = true;
    return then(onFulfilled, onRejected);
  }) as typeof promise.then;
  return { promise, handled: () => handled };
}

test('express: an async onAbort that rejects on a stream cut short: the reservation is reported, nothing goes unhandled', async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const logged: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (_fields, message) => void logged.push(String(message)) };
  const promises: Array<ReturnType<typeof rejected>> = [];
  const onAbort = (() => {
    const made = rejected();
    promises.push(made);
    return made.promise;
  }) as unknown as () => number;
  const app = express();
  app.use(ex.stigg({ entitlements, customer: () => 'ar-1', logger, onAbort }));
  app.post('/chat', ex.requireFeature(TEMPLATES, 2), (_req, res) => void res.write('data: first\n\n'));
  const server = http.createServer(app);
  await listen(server);
  try {
    const raw = await rawPost(server, '/chat', {});
    await raw.firstData;
    await raw.leave();
    await sleep(50);
    await entitlements.flush();
    expect({ calls: promises.length, handled: promises.map((p) => p.handled()), counted: usage('ar-1', TEMPLATES) }).toEqual({
      calls: 1,
      handled: [true],
      counted: 2,
    });
    expect(logged).toContain('stigg-gate: the promise the onAbort function returned rejected');
  } finally {
    await entitlements.close();
    await close(server);
  }
});

test('decorators: an async settle option and an async @ReportUsage value that reject: InvalidUsageError, nothing goes unhandled', async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const made: Array<ReturnType<typeof rejected>> = [];
  const make = (): Promise<number> => {
    const one = rejected();
    made.push(one);
    return one.promise;
  };
  class Completions {
    @RequireFeature(CAMPAIGNS, 2, { settle: make as unknown as () => number })
    async complete(): Promise<string> {
      return 'done';
    }

    @ReportUsage(TEMPLATES, make as unknown as () => number)
    async render(): Promise<string> {
      return 'done';
    }
  }
  const service = new Completions();
  try {
    const settled = await withCustomer({ entitlements, customerId: 'ar-2' }, () => service.complete()).catch((error: unknown) => error);
    const reported = await withCustomer({ entitlements, customerId: 'ar-3' }, () => service.render()).catch((error: unknown) => error);
    await sleep(20);
    await entitlements.flush();
    expect(settled).toBeInstanceOf(InvalidUsageError);
    expect(reported).toBeInstanceOf(InvalidUsageError);
    expect({ handled: made.map((p) => p.handled()), campaigns: usage('ar-2', CAMPAIGNS), templates: usage('ar-3', TEMPLATES) }).toEqual({
      handled: [true, true],
      campaigns: 2,
      templates: 0,
    });
  } finally {
    await entitlements.close();
  }
});
