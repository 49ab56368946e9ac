import http from 'node:http';
import express from 'express';
import request from 'supertest';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Logger } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import * as ex from '../../src/middleware/express';
import { forSuite, onFirstUse } from '../support/suite';

// Adversarial pass 4 on issue 23 ("committed when the handler completed its response with a status
// reportWhen accepts; released when it failed"). A reportWhen that threw (a metrics lookup down) was
// caught as "settling failed": the reservation was released, so a 200 answer's work was free; one
// written `async` (JavaScript: the types want a boolean) answered a promise, truthy whatever it said,
// so a 500 was charged, and a rejected one went unhandled (it ends a Node process). Measured: 200 with
// a throwing reportWhen, 0 counted; 500 with `async (s) => s < 400`, 1 counted. A reportWhen that
// throws or answers a promise is now no answer: the status decides by the default rule (< 400), logged.

const TEMPLATES = 'feature-01-templates'; // essentials plan: limit 10
const ids = ['rw-throws', 'rw-async-500', 'rw-rejects'];
const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: ids.map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-essentials' }] })) },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }));

test('a reportWhen that throws or answers a promise: the status decides (< 400 reported), logged', async () => {
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  const logged: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (_fields, message) => void logged.push(String(message)) };
  const app = express();
  app.use(ex.stigg({ entitlements, customer: (req) => req.path.slice(1), logger }));
  const throws = (status: number): boolean => {
    if (status === 200) throw new Error('the metrics service is down');
    return status < 400;
  };
  const answersPromise = (async (status: number) => status < 400) as unknown as (status: number) => boolean;
  const rejects = (() => Promise.reject(new Error('the metrics service is down'))) as unknown as (status: number) => boolean;
  app.get('/rw-throws', ex.requireFeature(TEMPLATES, 1, { reportWhen: throws }), (_req, res) => void res.json({ ok: true }));
  app.get('/rw-async-500', ex.requireFeature(TEMPLATES, 1, { reportWhen: answersPromise }), (_req, res) => void res.status(500).json({}));
  app.get('/rw-rejects', ex.requireFeature(TEMPLATES, 1, { reportWhen: rejects }), (_req, res) => void res.json({ ok: true }));
  const server = http.createServer(app);
  try {
    const statuses: number[] = [];
    for (const id of ids) statuses.push((await request(server).get(`/${id}`)).status);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await entitlements.flush();
    const counted = Object.fromEntries(ids.map((id) => [id, emu.stats().usage[`${id}||${TEMPLATES}`] ?? 0]));
    expect({ statuses, counted }).toEqual({
      statuses: [200, 500, 200],
      counted: { 'rw-throws': 1, 'rw-async-500': 0, 'rw-rejects': 1 },
    });
    expect(logged).toContain('stigg-gate: the promise the reportWhen function returned rejected');
    expect(logged.filter((message) => message.startsWith('stigg-gate: reportWhen failed'))).toHaveLength(3);
  } finally {
    await entitlements.close();
  }
});
