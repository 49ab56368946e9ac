import { Readable } from 'node:stream';
import Fastify, { type FastifyReply } from 'fastify';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog } from '../../src/emulator';
import * as fa from '../../src/middleware/fastify';
import { deferred } from './harness';
import { rawPost, watched } from './hangup';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass on issue 23, Fastify: a client leaves while the handler works, then the handler
// answers with a stream body, or hijacks the reply and writes the raw response itself.

const TEMPLATES = 'feature-01-templates';
const CUSTOMER = 'cust-basic';
const catalog: Catalog = { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] };

let real: Entitlements;
const emu = forSuite(() => startEmulator({ port: 0, catalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url }));
beforeEach(() => {
  emu.reset();
  real = createEntitlements({ client });
});
afterEach(async () => {
  await real.close();
});

const answers: Array<{ name: string; answer: (reply: FastifyReply) => unknown }> = [
  { name: 'reply.send(stream)', answer: (reply) => reply.type('text/plain').send(Readable.from(['a', 'b'])) },
  {
    name: 'reply.hijack() then reply.raw.end()',
    answer: (reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      reply.raw.end('done');
    },
  },
];

test.each(answers)('client gone while the handler works, then it answers with $name: the work is reported', async ({ answer }) => {
  const { entitlements, settled } = watched(real);
  const started = deferred();
  const go = deferred();
  const app = Fastify();
  await app.register(fa.stiggPlugin, { entitlements, customer: (request) => String(request.headers['x-customer']) });
  app.post('/work', { preHandler: fa.requireFeature(TEMPLATES, 1) }, async (_request, reply) => {
    started.resolve();
    await go.promise;
    return answer(reply);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const raw = await rawPost(app.server, '/work', { 'x-customer': CUSTOMER });
    await started.promise;
    await raw.leave();
    go.resolve();
    expect(await settled()).toBe('commit');
    await real.flush();
    expect(emu.stats().usage[`${CUSTOMER}||${TEMPLATES}`] ?? 0).toBe(1);
  } finally {
    await app.close();
  }
});
