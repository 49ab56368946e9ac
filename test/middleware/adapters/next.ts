import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Decision } from '../../../src/core/types';
import * as nx from '../../../src/middleware/next';
import type { Adapter, BuildOptions, View } from '../harness';
import { streamBody } from '../stream';
import { valuesFor } from '../values';
import { plainRouteOptions, plainStiggOptions } from '../plain-options';

// stigg-gate/next's route handlers in the shared tables: each RouteSpec becomes `route(...gates,
// handler)` as an App Router route file would export it, and a Request -> route dispatcher stands in
// for Next's router (@hono/node-server turns Node's request into the Request Next hands a handler).
// test/next runs the same adapter inside a real Next.js app.

/** What RouteSpec.use.next holds: a function wrapped around the route handler. */
type Wrapper = (request: Request, next: () => Promise<Response>) => Promise<Response>;

const views = new WeakMap<Request, View>();
function view(request: Request): View {
  return views.get(request) ?? { body: undefined, headers: {}, params: {} };
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** `/sites/:siteId/templates` against a pathname: the params, or undefined when it does not match. */
function match(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const segment = want[i]!;
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(got[i]!);
    else if (segment !== got[i]) return undefined;
  }
  return params;
}

function stiggOptions(options: BuildOptions, defaultCustomer: (v: View) => string | undefined): nx.StiggOptions {
  const s = options.stigg === false ? {} : (options.stigg ?? {});
  const onDenied = s.onDenied;
  return {
    entitlements: options.entitlements,
    customer: (request) => (s.customer ?? defaultCustomer)(view(request)),
    ...(s.resource ? { resource: (request: Request) => s.resource!(view(request)) } : {}),
    ...plainStiggOptions(s),
    ...(onDenied ? { onDenied: (d: Decision, request: Request) => rendered(onDenied(d, view(request))) } : {}),
  };
}

function rendered(r: { status: number; body: unknown }): Response {
  return Response.json(r.body, { status: r.status });
}

function streamed(rest: () => Promise<'end' | 'fail'>): Response {
  return new Response(streamBody(rest), { status: 200, headers: { 'content-type': 'text/plain' } });
}

/** Next.js route handlers (stigg-gate/next) in the shared table. */
export function nextAdapter(name: string, defaultCustomer: (v: View) => string | undefined): Adapter {
  return {
    name,
    kind: 'next',
    build(options) {
      const runs = new Map<string, number>();
      const errors: unknown[] = [];
      const route = nx.stigg(stiggOptions(options, defaultCustomer));
      const table = options.routes.map((spec) => {
        const gates = spec.gates.map((g) => {
          const usage = typeof g.usage === 'function' ? (request: Request) => g.usage(view(request)) : g.usage;
          const o = g.options;
          const routeOptions: nx.RequireFeatureOptions | undefined = o && {
            ...(o.resource ? { resource: (request: Request) => o.resource!(view(request)) } : {}),
            ...(o.requestedValues ? { requestedValues: valuesFor(o.requestedValues, (request: Request) => view(request)) } : {}),
            ...plainRouteOptions(o),
            ...(o.onDenied ? { onDenied: (d: Decision, request: Request) => rendered(o.onDenied!(d, view(request))) } : {}),
          };
          return nx.requireFeature(g.featureId, usage, routeOptions);
        });
        const h = spec.handler ?? {};
        const handler = route(...gates, async (_request: Request, _context: unknown, decisions: nx.Decisions): Promise<Response> => {
          count(runs, spec.path);
          if (h.throws === 'sync') throw h.error?.() ?? new Error('boom');
          if (h.hold) await h.hold();
          if (h.throws === 'async') throw h.error?.() ?? new Error('boom');
          if (h.settle !== undefined) decisions.entitlement?.settle?.(h.settle);
          if (h.stream) return streamed(h.stream.rest);
          const answer = Response.json(
            {
              entitlement: decisions.entitlement ?? null,
              entitlements: decisions.entitlements ?? null,
              ...(h.bodyBytes ? { pad: 'x'.repeat(h.bodyBytes) } : {}),
            },
            { status: h.status ?? 200 },
          );
          h.sent?.();
          return answer;
        });
        // use.next: wrappers around the route (withAuth(handler), a timeout), as Next apps compose them.
        const wrappers = (spec.use?.next ?? []) as Wrapper[];
        return { method: spec.method.toUpperCase(), path: spec.path, handler, wrappers };
      });

      async function dispatch(request: Request): Promise<Response> {
        const { pathname } = new URL(request.url);
        for (const entry of table) {
          // Next answers HEAD with a route's GET handler when it exports no HEAD.
          const method = request.method === 'HEAD' ? 'GET' : request.method;
          const params = entry.method === method ? match(entry.path, pathname) : undefined;
          if (params === undefined) continue;
          const type = request.headers.get('content-type') ?? '';
          let body: unknown;
          if (type.startsWith('application/json')) {
            try {
              body = await request.json();
            } catch {
              return Response.json({ error: 'bad json' }, { status: 400 });
            }
          }
          views.set(request, { body, headers: Object.fromEntries(request.headers), params });
          let run = () => entry.handler(request, { params: Promise.resolve(params) });
          for (const wrapper of [...entry.wrappers].reverse()) {
            const inner = run;
            run = () => wrapper(request, inner);
          }
          try {
            return await run();
          } catch (error) {
            // Next's own answer to a route that threw.
            errors.push(error);
            return Response.json({ error: error instanceof Error ? error.message : String(error) }, { status: 500 });
          }
        }
        return new Response('not found', { status: 404 });
      }
      const listener = getRequestListener(dispatch);
      return { server: http.createServer((req, res) => void listener(req, res)), runs, errors };
    },
  };
}
