import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { stiggWebhook } from '../../src/middleware/express';
import type { Logger } from '../../src/core/types';
import { MAX_ID_LENGTH } from '../../src/core/input';
import { customer, startRig, type Rig } from '../core/helpers';

// A signed event whose customer id the gate itself refuses (a lone surrogate, a control character,
// surrounding whitespace) was answered 503 "try again" and logged at error — so Stigg retries a
// request that can never succeed; and a customer id of exactly 256 characters (valid for every
// gate) was refused 400 by the webhook (its limit was 255), so that customer's changes were never
// invalidated. Before the fix: 503, 503, 503 and 400. Now one rule for ids: 400, 400, 400 and 200.
const SECRET = 'whsec-ids-0123456789';
let rig: Rig;
let port: number;
let server: http.Server;
const errors: string[] = [];
const longId = 'L'.repeat(MAX_ID_LENGTH);

beforeAll(async () => {
  rig = await startRig([customer(longId, 'plan-revvenu-growth')]);
  const logger: Logger = { warn: () => undefined, error: (_meta, message) => errors.push(message) };
  const entitlements = rig.make({ logger });
  const app = express();
  app.post('/hook', stiggWebhook({ entitlements, secret: SECRET, logger }));
  server = http.createServer((req, res) => void app(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rig.stop();
});

/** The raw JSON text, so an escaped lone surrogate reaches the server as Stigg's JSON would carry it. */
async function send(customerIdJson: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/hook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stigg-webhooks-secret': SECRET },
    body: `{"type":"entitlements.updated","customer":{"id":${customerIdJson}},"entitlements":[],"timestamp":"2026-12-07T10:00:00.000Z"}`,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

it.each([
  ['a lone surrogate', '"acct\\ud800"'],
  ['a control character', '"acct\\u0000x"'],
  ['surrounding whitespace', '" acct"'],
])('a customer id with %s is malformed (400), not "try again" (503)', async (_what, json) => {
  const before = errors.length;
  const answer = await send(json);
  expect({ status: answer.status, type: answer.body['type'] }).toEqual({ status: 400, type: 'urn:stigg-gate:problem:webhook-malformed' });
  expect(errors.slice(before)).toEqual([]);
});

it(`a customer id of ${MAX_ID_LENGTH} characters, valid for every gate, is invalidated (200)`, async () => {
  const answer = await send(JSON.stringify(longId));
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ action: 'invalidated', customerId: longId });
});
