// Adversarial pass 4 on issue 23 (settle(units) reports the actual units): docs/usage.md's streaming
// route reserves what the client asks for, `requireFeature('ai-tokens', (req) => Number(req.body?.max_tokens
// ?? 1024))`, and reports the final usage frame with `decision.settle?.(total_tokens)`. A client asking
// for 0 got an unmetered grant with no settle(): measured (limit 3), 6 requests settling 2 each: 6 x 200,
// 6 handler runs, 0 counted; the same through @RequireFeature's settle option. A usage of 0 asked is now
// metered: what it settles is reported, and once the usage is past the limit a 0 no longer fits.
import 'reflect-metadata';
import http from 'node:http';
import express from 'express';
import request from 'supertest';
import { createEntitlements } from '../../src/core';
import { RequireFeature, withCustomer } from '../../src/decorators';
import { customer, startRig } from '../core/helpers';
import * as ex from '../../src/middleware/express';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass 4 on issue 23 (settle(units) reports the actual units). docs/usage.md's streaming
// route reserves what the client asks for, `requireFeature('ai-tokens', (req) => Number(req.body?.max_tokens
// ?? 1024))`, and reports the final usage frame with `decision.settle?.(total_tokens)`. A client that asks
// for 0 gets a grant that is not metered (Decision.metered: "a NUMBER feature and requestedUsage > 0"):
// its decision has no settle(), the optional call does nothing, and the work is never reported — also
// once the usage has reached the limit (0 more fits). The decorators are the same: a settle option on a
// 0 reservation commits a lease that reports nothing. Measured (limit 3): 6 requests reserving 0 and
// settling 2 each: 6 x 200, 6 handler runs, 0 units counted (12 of work); through @RequireFeature with a
// settle option: 6 calls, 0 counted.
// Fix hint: a grant of a metered feature keeps its settle() whatever it reserved (metered for the
// settlement; a commit of 0 units reports nothing, and a settle past 0 is an overrun, signalled), or a
// usage function answering 0 on a metered route is a 400 like any invalid usage; at least the doc's
// example must not let 0 through (Math.max(1, …)).

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
const rig = forSuite(() =>
  startRig(
    ['zero-http', 'zero-dec'].map((id) => customer(id, 'plan-revvenu-basic')),
    {},
    { maxRetries: 0 },
  ),
);
const emu = onFirstUse(() => rig.emulator);
const client = onFirstUse(() => rig.client);

const counted = (id: string): number => emu.stats().usage[`${id}||${TEMPLATES}`] ?? 0;

test('express: a route reserving what the client asks for, asked 0: what it settles is counted, then it is denied', async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const app = express();
  app.use(express.json());
  app.use(ex.stigg({ entitlements, customer: () => 'zero-http' }));
  let runs = 0;
  app.post(
    '/chat',
    ex.requireFeature(TEMPLATES, (req) => Number(req.body?.max_tokens ?? 1024)),
    (_req, res) => {
      runs += 1;
      res.locals.entitlement?.settle?.(2); // the final usage frame
      res.json({ done: true });
    },
  );
  const server = http.createServer(app);
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await request(server).post('/chat').send({ max_tokens: 0 })).status);
    await entitlements.flush();
    expect({ statuses, runs, counted: counted('zero-http') }).toEqual({ statuses: [200, 200, 402, 402, 402, 402], runs: 2, counted: 4 });
  } finally {
    await entitlements.close();
  }
});

test('decorators: a settle option on a call that reserved 0 reports what it settles', async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  class Completions {
    @RequireFeature(TEMPLATES, (max: number) => max, { settle: (result: { used: number }) => result.used })
    async complete(_max: number): Promise<{ used: number }> {
      return { used: 2 };
    }
  }
  const service = new Completions();
  try {
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      outcomes.push(
        await withCustomer({ entitlements, customerId: 'zero-dec' }, () => service.complete(0)).then(
          () => 'ran',
          (error: Error) => error.name,
        ),
      );
    }
    await entitlements.flush();
    expect({ outcomes, counted: counted('zero-dec') }).toEqual({
      outcomes: ['ran', 'ran', ...Array(4).fill('EntitlementDeniedError')],
      counted: 4,
    });
  } finally {
    await entitlements.close();
  }
});
