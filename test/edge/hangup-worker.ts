import { Hono, type MiddlewareHandler } from 'hono';
import { Stigg, createEntitlements, type Entitlements } from 'stigg-gate';
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

function engine(env: Bindings): Entitlements {
  entitlements ??= createEntitlements({
    client: Stigg.createClient(env.STIGG_SERVER_API_KEY, { apiUrl: env.STIGG_API_URL, maxRetries: 0 }),
    usage: { flushIntervalMs: 3_600_000 },
  });
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
      customer: (c) => c.req.header('x-customer'),
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
  const decision = await ent.check({ customerId: c.req.query('customer') ?? '', featureId: TEMPLATES });
  return c.json({ currentUsage: decision.currentUsage });
});
app.use((c, next) => gateFor(c.env, (c.req.header('x-on-abort') ?? 'commit') as OnAbort)(c, next));
app.post('/work', requireFeature(TEMPLATES, 1), async (c) => {
  const id = c.req.header('x-id') ?? '';
  const mode = c.req.header('x-mode');
  await control(c.env, 'started', id);
  if (mode === 'throw') throw new Error('the handler failed');
  if (mode === '4xx') return c.json({ conflict: true }, 409);
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
