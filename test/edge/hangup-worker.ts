import { Hono, type MiddlewareHandler } from 'hono';
import { Stigg, createEntitlements, type CheckInput, type Entitlements, type Lease } from 'stigg-gate';
import { entitlementErrorHandler, requireFeature, stigg } from 'stigg-gate/hono';

// The Workers app of test/edge/hangup.test.ts: one gated route whose behaviour the request names
// (x-mode), each step announced to (and awaited from) the test's control server over loopback fetch.

interface Bindings {
  STIGG_API_URL: string;
  STIGG_SERVER_API_KEY: string;
  CONTROL_URL: string;
}

type Env = { Bindings: Bindings };
type OnAbort = 'commit' | 'release' | 'function';

const TEMPLATES = 'feature-01-templates';
let entitlements: Entitlements | undefined;
const gates = new Map<OnAbort, MiddlewareHandler<Env>>();
/** Per customer: how often the handler ran, and how each of its leases was settled (read through /usage). */
const runs = new Map<string, number>();
const settlements = new Map<string, string[]>();

function note(customerId: string, how: string): void {
  const list = settlements.get(customerId) ?? [];
  list.push(how);
  settlements.set(customerId, list);
}

/** Each metered lease announces its settlement in `settlements`. */
function watch(lease: Lease): Lease {
  const { decision } = lease;
  if (!decision.granted || !decision.metered) return lease;
  return {
    decision,
    commit: () => (lease.commit(), note(decision.customerId, 'commit')),
    release: () => (lease.release(), note(decision.customerId, 'release')),
    settle: (units) => (lease.settle(units), note(decision.customerId, `settle ${units}`)),
    abandoned: () => lease.abandoned?.(),
  };
}

function engine(env: Bindings): Entitlements {
  if (entitlements === undefined) {
    const real = createEntitlements({
      client: Stigg.createClient(env.STIGG_SERVER_API_KEY, { apiUrl: env.STIGG_API_URL, maxRetries: 0 }),
      usage: { flushIntervalMs: 3_600_000 },
    });
    entitlements = Object.create(real, {
      acquire: {
        value: (input: CheckInput) => {
          const lease = real.acquire(input);
          return lease instanceof Promise ? lease.then(watch) : watch(lease);
        },
      },
    }) as Entitlements;
  }
  return entitlements;
}

/** Tells the test `step` of request `id` happened, and resolves with what it answers (it may hold the answer). */
async function control(env: Bindings, step: string, id: string): Promise<string> {
  const res = await fetch(`${env.CONTROL_URL}/${step}/${id}`);
  return res.text();
}

function gateFor(env: Bindings, onAbort: OnAbort): MiddlewareHandler<Env> {
  let gate = gates.get(onAbort);
  if (gate === undefined) {
    gate = stigg({
      entitlements: engine(env),
      onAbort: onAbort === 'function' ? () => 2 : onAbort,
      async customer(c) {
        // 'late': the decision waits until the test answers (it leaves before that).
        if (c.req.header('x-mode') === 'late') await control(c.env, 'arrived', c.req.header('x-id') ?? '');
        return c.req.header('x-customer');
      },
    });
    gates.set(onAbort, gate);
  }
  return gate;
}

const app = new Hono<Env>();
app.onError(entitlementErrorHandler());
app.get('/usage', async (c) => {
  const ent = engine(c.env);
  await ent.flush();
  const customerId = c.req.query('customer') ?? '';
  const decision = await ent.check({ customerId, featureId: TEMPLATES });
  return c.json({ currentUsage: decision.currentUsage, runs: runs.get(customerId) ?? 0, settled: settlements.get(customerId) ?? [] });
});
app.use((c, next) => gateFor(c.env, (c.req.header('x-on-abort') ?? 'commit') as OnAbort)(c, next));
app.post('/work', requireFeature(TEMPLATES, 1), (c, next) => {
  if (c.req.header('x-mode') !== 'throw-sync') return next();
  const customer = c.req.header('x-customer') ?? '';
  runs.set(customer, (runs.get(customer) ?? 0) + 1);
  throw new Error('the handler failed at once');
});
app.post('/work', async (c) => {
  const id = c.req.header('x-id') ?? '';
  const mode = c.req.header('x-mode');
  const customer = c.req.header('x-customer') ?? '';
  runs.set(customer, (runs.get(customer) ?? 0) + 1);
  await control(c.env, 'started', id);
  if (mode === 'throw') throw new Error('the handler failed');
  if (mode === '4xx') return c.json({ conflict: true }, 409);
  if (mode === '5xx') return c.json({ unavailable: true }, 503);
  if (mode === 'settle' || mode === 'settle-4xx') {
    c.var.entitlement?.settle?.(Number(c.req.header('x-units')));
    return c.json({ settled: true }, mode === 'settle' ? 200 : 422);
  }
  if (mode === 'big') {
    // A complete answer larger than the socket buffers: the client that never reads cannot take it all.
    const response = c.body(new Uint8Array(8 * 1024 * 1024));
    await control(c.env, 'sent', id);
    return response;
  }
  if (mode === 'hold') {
    await control(c.env, 'go', id);
    return c.json({ done: true });
  }
  if (mode === 'stream') {
    const env = c.env;
    const body = new ReadableStream<Uint8Array>({
      async start(stream) {
        stream.enqueue(new TextEncoder().encode('first chunk\n'));
        const rest = await control(env, 'rest', id);
        if (rest === 'fail') stream.error(new Error('the stream broke'));
        else {
          stream.enqueue(new TextEncoder().encode('last chunk\n'));
          stream.close();
        }
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain' } });
  }
  return c.json({ done: true });
});

export default app;
