import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements } from '../../src/core/types';
import { startEmulator } from '../../src/emulator';
import { CUSTOMER_HEADER, adapters, close, listen, type RouteSpec, type View } from '../middleware/harness';
import { denials, makeTrace, replay, total, traceCatalog, wouldDeny, type Kind, type Result, type TraceRequest } from './trace';
import { forSuite, onFirstUse } from '../support/suite';

// The recorded trace through every adapter, over loopback HTTP against the emulator: the routes
// enforcing, then the same routes with `mode: 'shadow'` (one option per route). Shadow answers
// every request 200 and would deny exactly what enforcement denied, request for request.
// SHADOW_TRACE_SIZE sets the trace's length (default 1,500 a run: two runs on each of 7 stacks).

const SIZE = Number(process.env['SHADOW_TRACE_SIZE'] ?? 1_500);
/** Two replays per stack; 10,000 a replay takes minutes on a busy machine. */
const TIMEOUT_MS = Math.max(300_000, SIZE * 200);

const emulator = forSuite(() => startEmulator({ port: 0, catalog: traceCatalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }));

const PATHS: Record<Kind, { method: 'get' | 'post'; path: string }> = {
  templates: { method: 'post', path: '/templates' },
  campaigns: { method: 'post', path: '/campaigns' },
  'custom-domain': { method: 'get', path: '/custom-domain' },
  analytics: { method: 'get', path: '/analytics' },
  model: { method: 'post', path: '/model' },
  seats: { method: 'post', path: '/seats' },
  missing: { method: 'get', path: '/missing' },
};

function routes(mode: 'shadow' | undefined): RouteSpec[] {
  const options = mode === undefined ? undefined : { mode };
  const body = (v: View): any => v.body;
  return [
    { ...PATHS.templates, gates: [{ featureId: 'feature-01-templates', usage: 1, options }] },
    { ...PATHS.campaigns, gates: [{ featureId: 'feature-02-campaigns', usage: (v: View) => body(v).count, options }] },
    { ...PATHS['custom-domain'], gates: [{ featureId: 'feature-03-custom-domain', options }] },
    { ...PATHS.analytics, gates: [{ featureId: 'feature-04-analytics', options }] },
    { ...PATHS.model, gates: [{ featureId: 'feature-09-model', options: { ...options, requestedValues: (v: View) => body(v).values } }] },
    { ...PATHS.seats, gates: [{ featureId: 'feature-07-seats', usage: 1, options }] },
    { ...PATHS.missing, gates: [{ featureId: 'feature-99-missing', options }] },
  ];
}

async function send(base: string, request: TraceRequest): Promise<Result> {
  const { method, path } = PATHS[request.kind];
  const res = await fetch(base + path, {
    method: method.toUpperCase(),
    headers: { [CUSTOMER_HEADER]: request.customerId, ...(method === 'post' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'post' ? { body: JSON.stringify({ count: request.usage, values: request.values }) } : {}),
  });
  const body = (await res.json()) as { accessDeniedReason?: string; entitlement?: { wouldDenyReason: string | null } };
  if (res.status === 200) return { served: true, reason: body.entitlement?.wouldDenyReason ?? null };
  if (res.status !== 402 && res.status !== 403) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(body)}`);
  return { served: false, reason: body.accessDeniedReason ?? null };
}

interface Run {
  results: Result[];
  shadowCounts: ReturnType<Entitlements['shadowCounts']>;
  delivered: Record<string, number>;
}

async function run(adapter: (typeof adapters)[number], trace: readonly TraceRequest[], mode: 'shadow' | undefined): Promise<Run> {
  emulator.reset();
  const entitlements = createEntitlements({ client });
  const { server } = adapter.build({ entitlements, routes: routes(mode) });
  const base = await listen(server);
  try {
    const results = await replay(trace, (request) => send(base, request));
    const shadowCounts = entitlements.shadowCounts();
    await entitlements.flush();
    return { results, shadowCounts, delivered: { ...emulator.stats().usage } };
  } finally {
    await close(server);
    await entitlements.close();
  }
}

const trace = makeTrace(SIZE, { seed: 2027 });

// Not Nest: a requirement with a usage or values function is decided by the method's @RequireFeature wrapper,
// after @EntitlementDecision() was resolved, so the handler cannot echo its wouldDenyReason (test/shadow/nest.test.ts).
const stacks = adapters.filter((adapter) => adapter.kind !== 'nest');

describe.each(stacks.map((adapter) => [adapter.name, adapter] as const))('%s', (_name, adapter) => {
  test(
    `${SIZE} requests: a route in shadow mode serves all, and would deny what it denies enforcing, per reason`,
    async () => {
      const enforced = await run(adapter, trace, undefined);
      const shadow = await run(adapter, trace, 'shadow');
      const denied = denials(enforced.results);
      expect(denied['RequestedUsageExceedingLimit']).toBeGreaterThan(0);
      expect(Object.keys(denied)).toHaveLength(6);
      expect(total(denials(shadow.results))).toBe(0);
      expect(wouldDeny(shadow.results)).toEqual(denied);
      expect(shadow.results.map((result) => result.reason)).toEqual(enforced.results.map((result) => result.reason));
      expect(shadow.shadowCounts.byReason).toEqual(denied);
      expect(shadow.shadowCounts.decisions).toBe(SIZE);
      expect(enforced.shadowCounts.decisions).toBe(0);
      // Enforcement held the limit; shadow reported every template it served.
      expect(enforced.delivered['basic-1||feature-01-templates']).toBe(40);
      const served = trace.filter((request) => request.customerId === 'basic-1' && request.kind === 'templates').length;
      expect(shadow.delivered['basic-1||feature-01-templates']).toBe(served);
    },
    TIMEOUT_MS,
  );
});
