import express from 'express';
import type { Decision, Entitlements } from '../../src/core/types';
import { requireFeature, stigg } from '../../src/middleware/express';
import { MAX_WAITING_CHECKS } from '../../src/core/check-reports';
import { customer, startRig, TEMPLATES, ANALYTICS } from './helpers';
import { forSuite } from '../support/suite';

// reportChecks: each decision it covers becomes exactly one reportEntitlementCheckRequested at the
// emulator (over HTTP), batched: at most one call per second of the engine's clock, never awaited by
// the check itself. The clock is injected and frozen, so when a call may go is the test's to say.

const rig = forSuite(() =>
  startRig(
    [
      customer('eight', 'plan-revvenu-essentials', { usage: [{ featureId: TEMPLATES, value: 8 }] }),
      customer('basic', 'plan-revvenu-basic'),
    ],
    {},
    { maxRetries: 0 },
  ),
);
beforeEach(() => rig.emulator.reset());

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `done()`; far past any tick, so only a reporter that never sends fails it. */
async function until(done: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > 15_000) throw new Error(`never happened: ${what}`);
    await sleep(20);
  }
}

function frozenClock(): { now: () => number; advance(ms: number): void } {
  let t = Date.now();
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const stats = () => rig.emulator.stats().checkReports;

interface Made {
  entitlements: Entitlements;
  clock: ReturnType<typeof frozenClock>;
  warnings: Array<[Record<string, unknown>, string]>;
}

async function make(reportChecks?: 'denied' | 'all'): Promise<Made> {
  const clock = frozenClock();
  const warnings: Made['warnings'] = [];
  const logger = { warn: (meta: Record<string, unknown>, message: string) => warnings.push([meta, message]), error: () => undefined };
  const entitlements = rig.make({ now: clock.now, logger, ...(reportChecks === undefined ? {} : { reportChecks }) });
  // Warm the cache with a decision 'denied' does not report: the checks below then decide without I/O.
  await entitlements.check({ customerId: 'eight', featureId: TEMPLATES, requestedUsage: 1 });
  return { entitlements, clock, warnings };
}

/** `denied` denials (8 + 5 > 10) and `granted` grants of one customer, decided from the cache. */
async function decide(entitlements: Entitlements, denied: number, granted: number): Promise<Decision[]> {
  const decisions: Decision[] = [];
  for (let i = 0; i < Math.max(denied, granted); i += 1) {
    if (i < denied) decisions.push(await entitlements.check({ customerId: 'eight', featureId: TEMPLATES, requestedUsage: 5 }));
    if (i < granted) decisions.push(await entitlements.check({ customerId: 'eight', featureId: TEMPLATES, requestedUsage: 1 }));
  }
  return decisions;
}

test("'denied': each denial is one check report, 30 of them in one call; grants are not reported", async () => {
  const { entitlements, clock } = await make('denied');
  const decisions = await decide(entitlements, 30, 20);
  expect(decisions.filter((d) => !d.granted)).toHaveLength(30);
  await until(() => stats().reports >= 30, '30 check reports');
  expect(stats()).toEqual({ calls: 1, reports: 30, granted: 0, denied: 30 });

  // The clock has not moved: more denials wait, however many ticks pass (real time goes on)…
  await decide(entitlements, 7, 3);
  await sleep(1_200);
  expect(stats().calls).toBe(1);
  // …and go in one call once a second has passed.
  clock.advance(1_000);
  await until(() => stats().reports >= 37, '37 check reports');
  expect(stats()).toEqual({ calls: 2, reports: 37, granted: 0, denied: 37 });
  await entitlements.close();
  expect(stats().reports).toBe(37);
});

test('a report carries what the app was told: ids, the reason, the figures it was decided on', async () => {
  const { entitlements } = await make('all');
  const denied = await entitlements.check({ customerId: 'eight', featureId: TEMPLATES, requestedUsage: 5 });
  const granted = await entitlements.check({ customerId: 'basic', featureId: ANALYTICS });
  await entitlements.close();
  const reports = rig.emulator.state.checkReports.map((r) => r.check);
  expect(reports).toHaveLength(3); // the warm-up grant, then these two
  expect(reports[1]).toEqual({
    customerId: 'eight',
    featureId: TEMPLATES,
    resourceId: null,
    environmentId: undefined,
    requestedUsage: 5,
    requestedValues: null,
    entitlementCheckResult: expect.objectContaining({
      hasAccess: false,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      currentUsage: denied.currentUsage,
      usageLimit: 10,
      requestedUsage: 5,
      hasUnlimitedUsage: false,
      hasSoftLimit: false,
    }),
  });
  expect(reports[2]?.entitlementCheckResult).toMatchObject({ hasAccess: false, accessDeniedReason: granted.accessDeniedReason });
  expect(granted.granted).toBe(false); // basic has no analytics: NoFeatureEntitlementInSubscription
});

test("'all': each decision, granted or denied, is one report", async () => {
  const { entitlements } = await make('all');
  await decide(entitlements, 12, 9);
  await entitlements.close();
  expect(stats()).toMatchObject({ reports: 22, granted: 10, denied: 12 }); // the warm-up grant included
});

test('off (the default): no check report, no call', async () => {
  const { entitlements } = await make();
  await decide(entitlements, 5, 5);
  await entitlements.close();
  expect(stats()).toEqual({ calls: 0, reports: 0, granted: 0, denied: 0 });
  expect(rig.emulator.stats().operations['reportEntitlementCheckRequested']).toBeUndefined();
});

test('close() sends what waits, though a second has not passed', async () => {
  const { entitlements } = await make('denied');
  await decide(entitlements, 3, 0);
  await until(() => stats().reports === 3, 'the first call');
  await decide(entitlements, 4, 0);
  await entitlements.close();
  expect(stats()).toEqual({ calls: 2, reports: 7, granted: 0, denied: 7 });
});

test(`bounded: past ${MAX_WAITING_CHECKS} waiting, reports are dropped, counted and logged (once a minute)`, async () => {
  const { entitlements, warnings } = await make('denied');
  await decide(entitlements, MAX_WAITING_CHECKS + 500, 0);
  const dropped = warnings.filter(([, message]) => /check reports? not delivered/.test(message));
  expect(dropped).toHaveLength(1);
  expect(dropped[0]?.[1]).toMatch(/more than 2000 check reports waiting/);
  await entitlements.close();
  expect(stats().reports).toBe(MAX_WAITING_CHECKS);
  expect(stats().calls).toBe(MAX_WAITING_CHECKS / 200);
});

test('a failed call is logged and not sent again; later reports go', async () => {
  const { entitlements, clock, warnings } = await make('denied');
  rig.emulator.setFaults({ failureRate: 1 });
  try {
    await decide(entitlements, 4, 0);
    await until(() => warnings.some(([, message]) => /4 check reports not delivered/.test(message)), 'the failure logged');
  } finally {
    rig.emulator.setFaults({ failureRate: 0 });
  }
  expect(warnings.find(([, message]) => /not delivered/.test(message))?.[1]).toMatch(/not sent again/);
  await decide(entitlements, 2, 0);
  clock.advance(1_000);
  await until(() => stats().reports >= 2, 'the next call');
  await entitlements.close();
  expect(stats()).toMatchObject({ reports: 2, denied: 2 });
});

test('a reason newer than the schema goes as Unknown (the input enum refuses it)', async () => {
  const { entitlements } = await make('denied');
  rig.emulator.setFaults({ accessDeniedReason: 'EntitlementNotFound' });
  try {
    const decision = await entitlements.check({ customerId: 'basic', featureId: ANALYTICS });
    expect(decision.accessDeniedReason).toBe('EntitlementNotFound');
  } finally {
    rig.emulator.setFaults({ accessDeniedReason: null });
  }
  await entitlements.close();
  expect(rig.emulator.state.checkReports.map((r) => r.check.entitlementCheckResult.accessDeniedReason)).toEqual(['Unknown']);
});

test('a client without reportEntitlementCheckRequested, or a wrong mode, throws at construction with the fix', () => {
  const { client } = rig;
  const bare = { getEntitlement: client.getEntitlement.bind(client), reportUsageBulk: client.reportUsageBulk.bind(client) };
  expect(() => rig.make({ client: bare, reportChecks: 'denied' } as never)).toThrow(
    /reportChecks needs a client with reportEntitlementCheckRequested\(checks\[\]\)/,
  );
  expect(() => rig.make({ reportChecks: 'denials' as never })).toThrow(/denials is not a valid value for reportChecks.*'denied', 'all'/);
});

test('through a gated Express route on loopback: each 402 is exactly one report, each 200 none', async () => {
  const { entitlements } = await make('denied');
  const app = express();
  app.use(stigg({ entitlements, customer: (req) => req.get('x-customer') }));
  app.post(
    '/templates',
    requireFeature(TEMPLATES, (req) => Number(req.query['n'])),
    (_req, res) => void res.json({ ok: true }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const statuses: number[] = [];
  try {
    for (let i = 0; i < 12; i += 1) {
      const n = i % 3 === 0 ? 1 : 5; // 1 unit is granted while 8 + committed ones stay within 10; 5 is always denied
      const res = await fetch(`http://127.0.0.1:${port}/templates?n=${n}`, { method: 'POST', headers: { 'x-customer': 'eight' } });
      statuses.push(res.status);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  await entitlements.close();
  const denials = statuses.filter((status) => status === 402).length;
  // 5 units never fit (8 used of 10); 1 unit fits twice (9, 10), then is denied too.
  expect(statuses).toEqual([200, 402, 402, 200, 402, 402, 402, 402, 402, 402, 402, 402]);
  expect(stats()).toMatchObject({ reports: denials, denied: denials, granted: 0 });
  expect(rig.emulator.state.checkReports.every((r) => r.check.customerId === 'eight')).toBe(true);
});
