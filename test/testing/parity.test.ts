import express from 'express';
import type { Entitlements } from 'stigg-gate';
import { StiggClient, createEntitlements } from 'stigg-gate';
import { startEmulator } from 'stigg-gate/emulator';
import { entitlementErrorHandler, requireFeature, stigg } from 'stigg-gate/express';
import { createTestEntitlements, inject } from 'stigg-gate/testing';
import { CASES, CUSTOMERS, RESOURCES, START, type Case, type RequestStep } from './parity/cases';
import { catalogOf } from './parity/catalog';
import { forSuite } from '../support/suite';

/*
 * The parity suite: every case runs through the same gated Express route twice, once on the kit
 * (createTestEntitlements) and once on the production engine talking to the emulator over HTTP,
 * each backend set up from the same fixtures (parity/catalog.ts turns them into the emulator's
 * catalog). Statuses, problem bodies, Retry-After and the usage each "Stigg" ends up counting must
 * be identical, and the statuses must be the ones the case states.
 */

interface Backend {
  readonly entitlements: Entitlements;
  fail(): void;
  recovered(): void;
  advance(ms: number): Promise<void>;
  usage(customerId: string, featureId: string, resourceId?: string): number;
}

interface Outcome {
  status: number;
  body: unknown;
  retryAfter: unknown;
}

const METERED: Array<[string, string, string?]> = [
  ['basic', 'templates'],
  ['basic', 'seats'],
  ['basic', 'api'],
  ['basic', 'calls'],
  ['basic', 'daily'],
  ['basic', 'quota0'],
  ['pro', 'templates'],
  ['pro', 'seats'],
  ['pro', 'calls'],
  ['basic', 'domains', 'site-1'],
  ['basic', 'domains', 'site-2'],
];
const NO_FLUSH = { flushIntervalMs: 1_000_000_000, maxAgeMs: 100 * 365 * 86_400_000 };
const silent = { warn() {}, error() {} };

function appOf(entitlements: Entitlements): express.Express {
  const app = express();
  app.use(express.json());
  app.use(stigg({ entitlements, customer: (req) => req.header('x-customer'), resource: (req) => req.header('x-resource') }));
  app.post(
    '/gate',
    (req, res, next) => {
      const step = req.body as RequestStep;
      requireFeature(step.f, step.u, step.v === undefined ? undefined : { requestedValues: step.v })(req, res, next);
    },
    (req, res) => {
      res.status((req.body as RequestStep).s ?? 200).json({ served: true });
    },
  );
  app.use(entitlementErrorHandler());
  return app;
}

async function run(backend: Backend, testCase: Case): Promise<{ outcomes: Outcome[]; usage: Record<string, number> }> {
  const app = appOf(backend.entitlements);
  const outcomes: Outcome[] = [];
  let failing = false;
  for (const step of testCase.steps) {
    if ('advance' in step) {
      await backend.advance(step.advance);
      continue;
    }
    if ('fail' in step) {
      backend.fail();
      failing = true;
      continue;
    }
    const headers: Record<string, string> = {};
    if (step.c !== null) headers['x-customer'] = step.c;
    if (step.r !== undefined) headers['x-resource'] = step.r;
    const res = await inject(app, { method: 'POST', url: '/gate', headers, body: step });
    if (failing) {
      backend.recovered();
      failing = false;
    }
    outcomes.push({ status: res.statusCode, body: res.json(), retryAfter: res.headers['retry-after'] });
  }
  await backend.entitlements.flush();
  const usage: Record<string, number> = {};
  for (const [customerId, featureId, resourceId] of METERED) {
    usage[[customerId, featureId, resourceId ?? ''].join('/')] = backend.usage(customerId, featureId, resourceId);
  }
  return { outcomes, usage };
}

const emulator = forSuite(() => startEmulator({ port: 0, catalog: catalogOf(CUSTOMERS, RESOURCES, START), now: () => START }));

function kitBackend(): Backend & { close(): Promise<void> } {
  const kit = createTestEntitlements({ customers: CUSTOMERS, resources: RESOURCES, start: START });
  return {
    entitlements: kit,
    fail: () => kit.failNext('network'),
    recovered: () => undefined,
    advance: (ms) => kit.clock.advance(ms),
    usage: (c, f, r) => kit.usage(c, f, r),
    close: async () => void (await kit.close()),
  };
}

function emulatorBackend(): Backend & { close(): Promise<void> } {
  emulator.reset();
  emulator.clock.set(START);
  const entitlements = createEntitlements({
    client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }),
    now: () => emulator.clock.now(),
    usage: NO_FLUSH,
    logger: silent,
  });
  return {
    entitlements,
    fail: () => {
      emulator.setFaults({ failureRate: 1 });
      for (const customerId of ['basic', 'pro', 'gone', 'free', 'nobody']) void entitlements.invalidate(customerId);
    },
    recovered: () => emulator.setFaults({ failureRate: 0 }),
    advance: async (ms) => {
      await entitlements.flush();
      emulator.clock.advance(ms);
    },
    usage: (c, f, r) => emulator.state.currentUsage(c, f, r ?? null),
    close: async () => void (await entitlements.close()),
  };
}

test('the suite has at least 50 cases, of every kind', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(50);
  for (const kind of ['grant', '402', '403', '401', '503', 'report', 'settle', 'period', 'soft', 'enum']) {
    expect(CASES.filter((c) => c.name.startsWith(`${kind}:`)).length).toBeGreaterThanOrEqual(3);
  }
});

test.each(CASES.map((c) => [c.name, c] as const))('%s: the kit answers as the emulator over HTTP', async (_name, testCase) => {
  const kit = kitBackend();
  const http = emulatorBackend();
  try {
    const onKit = await run(kit, testCase);
    const onEmulator = await run(http, testCase);
    expect(onKit).toEqual(onEmulator);
    const expected = testCase.steps.flatMap((step) => ('expect' in step ? [step.expect] : []));
    expect(onKit.outcomes.map((outcome) => outcome.status)).toEqual(expected);
  } finally {
    await kit.close();
    await http.close();
  }
});
