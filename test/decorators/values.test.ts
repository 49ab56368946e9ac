/**
 * Attack on requestedValues through the decorators (issue 22): values a decorated method computes
 * from its arguments (the client's input) that are not a short list of ids answer the same 400 as
 * the middleware's (InvalidRequestedValues), not "Invalid requested usage … must be a finite number",
 * and never echo the input, also where the framework renders an exposed error's message itself.
 */
import 'reflect-metadata';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import Koa from 'koa';
import type { Context } from 'koa';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements } from '../../src/core/types';
import { RequireFeature } from '../../src/decorators';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import * as ex from '../../src/middleware/express';
import * as ko from '../../src/middleware/koa';
import { PROBLEM_TYPE_PREFIX } from '../../src/middleware/problem';

const MODEL = 'feature-09-model';
const catalog: Catalog = {
  ...defaultCatalog,
  features: [...defaultCatalog.features, { id: MODEL, featureType: 'ENUM', enumValues: ['small', 'large', 'gpt-4o'] }],
  plans: [
    ...defaultCatalog.plans,
    { id: 'plan-ai', productId: 'product-revvenu', pricingType: 'FREE', entitlements: [{ featureId: MODEL, enumValues: ['small'] }] },
  ],
  customers: [{ id: 'cust-ai', subscriptions: [{ planId: 'plan-ai' }] }],
};

class Chat {
  @RequireFeature(MODEL, { requestedValues: (models: unknown) => models as string[] })
  async run(_models: unknown): Promise<{ ok: true }> {
    return { ok: true };
  }
}

const HOSTILE = '<script>alert(1)</script>' + 'x'.repeat(300);

let emu: Emulator;
let entitlements: Entitlements;
const chat = new Chat();

beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
  entitlements = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }) });
});
afterAll(async () => {
  await entitlements.close();
  await emu.stop();
});

function expressApp(): express.Express {
  const app = express();
  app.use(express.json());
  app.use(ex.stigg({ entitlements, customer: (req) => req.get('x-customer') }));
  app.post('/chat', (req: Request, res: Response, next: NextFunction) => {
    chat.run((req.body as { models?: unknown }).models).then((body) => res.json(body), next);
  });
  app.use(ex.entitlementErrorHandler());
  return app;
}

/** Koa without the gate's error handler: Koa renders an exposed error's message as the body. */
function bareKoa(): ReturnType<Koa['callback']> {
  const app = new Koa();
  app.silent = true;
  app.use(ko.stigg({ entitlements, customer: (ctx: Context) => ctx.get('x-customer') || undefined }));
  app.use(async (ctx: Context) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    ctx.body = await chat.run((JSON.parse(Buffer.concat(chunks).toString() || '{}') as { models?: unknown }).models);
  });
  return app.callback();
}

test.each([
  ['a string', HOSTILE, 'must be an array of strings'],
  ['a blank value', ['  '], 'must not be blank'],
  ['a value too long', [HOSTILE], 'must be at most 256 characters'],
  ['numbers', [1, 2], 'must be a string'],
])('values computed by a decorated method: %s answers 400 InvalidRequestedValues, not echoed', async (_name, models, problem) => {
  const res = await request(expressApp()).post('/chat').set('x-customer', 'cust-ai').send({ models }).expect(400);
  expect(res.body).toMatchObject({
    type: `${PROBLEM_TYPE_PREFIX}invalid-requested-values`,
    title: 'Invalid requested values',
    status: 400,
    featureId: MODEL,
  });
  expect(res.body.detail).toContain(problem);
  expect(res.text).not.toContain('<script>');
  const bare = await request(bareKoa()).post('/chat').set('x-customer', 'cust-ai').send({ models }).expect(400);
  expect(bare.text).toContain(problem);
  expect(bare.text).not.toContain('<script>');
});

test('values a decorated method computes: entitled passes, others answer 403 naming the values not entitled', async () => {
  await request(expressApp())
    .post('/chat')
    .set('x-customer', 'cust-ai')
    .send({ models: ['small'] })
    .expect(200);
  const denied = await request(expressApp())
    .post('/chat')
    .set('x-customer', 'cust-ai')
    .send({ models: ['small', 'gpt-4o'] })
    .expect(403);
  expect(denied.body).toMatchObject({ accessDeniedReason: 'RequestedValuesMismatch', valuesNotEntitled: ['gpt-4o'] });
});
