/**
 * Attacks on the per-customer 429 isolation (issue 22): a customer Stigg answered 429 must neither
 * wedge the shared circuit breaker nor keep sending reads while it is held.
 */
import http from 'node:http';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementUnavailableError } from '../../src/core/errors';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { TEMPLATES } from './helpers';
import { sleep } from '../support/time';
import { forwardTo, graphqlUrlOf } from '../support/http';

let emulator: Emulator;
const made: Entitlements[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: [
        { id: 'flood', subscriptions: [{ planId: 'plan-revvenu-basic' }] },
        ...Array.from({ length: 4 }, (_, i) => ({ id: `other-${i}`, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
      ],
    },
  });
});

afterAll(async () => {
  await Promise.all(made.map((e) => e.close()));
  await emulator.stop();
});

interface Proxy {
  url: string;
  /** Reads about the limited customer that reached "Stigg". */
  limitedReads(): number;
  /** Every read answers 503 while true (Stigg down for everyone). */
  down: boolean;
  close(): Promise<void>;
}

/** Stigg in front of the emulator: 429 (Retry-After: `retryAfter`) for `limited` after `delayMs`, 503 for all while `down`. */
async function proxy(limited: string, retryAfter: string, delayMs: number): Promise<Proxy> {
  let limitedReads = 0;
  const state = { down: false };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (state.down) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
        return;
      }
      if (body.includes(`"customerId":"${limited}"`)) {
        limitedReads += 1;
        setTimeout(() => res.writeHead(429, { 'retry-after': retryAfter, 'content-type': 'text/plain' }).end('rate limited'), delayMs);
        return;
      }
      forwardTo(emulator.url, req, res, body);
    });
  });
  const url = await graphqlUrlOf(server);
  return {
    url,
    limitedReads: () => limitedReads,
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function make(url: string, options: Omit<Parameters<typeof createEntitlements>[0], 'client'>): Entitlements {
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: url, maxRetries: 0 });
  const entitlements = createEntitlements({ client, ...options });
  made.push(entitlements);
  return entitlements;
}

async function outcome(entitlements: Entitlements, customerId: string): Promise<'granted' | 'denied' | 'unavailable'> {
  try {
    const decision = await entitlements.check({ customerId, featureId: TEMPLATES });
    return decision.granted ? 'granted' : 'denied';
  } catch (error) {
    if (error instanceof EntitlementUnavailableError) return 'unavailable';
    throw error;
  }
}

test("a held customer's request taking the half-open trial does not wedge the breaker for everyone", async () => {
  const stigg = await proxy('flood', '60', 0);
  try {
    const entitlements = make(stigg.url, { failMode: 'closed', circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 50 } });
    // Stigg answers 429 for 'flood': its reads are held for 60 s (the breaker is not touched).
    expect(await outcome(entitlements, 'flood')).toBe('unavailable');
    // Stigg is down for everyone a moment: the breaker opens.
    stigg.down = true;
    expect(await outcome(entitlements, 'other-0')).toBe('unavailable');
    stigg.down = false;
    await sleep(80);
    // Stigg is back. The first request after the reset timeout is the held customer's: it is the half-open trial.
    expect(await outcome(entitlements, 'flood')).toBe('unavailable');
    // Everyone else must be decided again once the breaker may try (a few reset timeouts later at most).
    const others: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      await sleep(80);
      others.push(await outcome(entitlements, `other-${1 + (i % 3)}`));
    }
    expect(others).toEqual(['granted', 'granted', 'granted', 'granted', 'granted']);
  } finally {
    await stigg.close();
  }
});

test("reads waiting for one of a customer's slots are not sent once Stigg answered that customer 429", async () => {
  // Retry-After: 30 s. The first 4 reads are in flight when the 429s come back; the rest wait for a slot.
  const stigg = await proxy('flood', '30', 50);
  try {
    const entitlements = make(stigg.url, { failMode: 'closed' });
    const flood = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        Promise.resolve(entitlements.acquire({ customerId: 'flood', resourceId: `r-${i}`, featureId: TEMPLATES, requestedUsage: 1 })).then(
          () => 'lease',
          (error: unknown) => (error instanceof EntitlementUnavailableError ? 'unavailable' : 'other'),
        ),
      ),
    );
    expect(new Set(flood)).toEqual(new Set(['unavailable']));
    // Stigg said "wait 30 s" for this customer: only the reads already out when it said so reached it.
    expect(stigg.limitedReads()).toBeLessThanOrEqual(4);
  } finally {
    await stigg.close();
  }
});
