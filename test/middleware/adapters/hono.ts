import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { Context, ErrorHandler, MiddlewareHandler, Next } from 'hono';
import * as ho from '../../../src/middleware/hono';
import type { Decision } from '../../../src/core/types';
import type { Adapter, View } from '../harness';
import { streamBody } from '../stream';
import { valuesFor } from '../values';
import { plainRouteOptions, plainStiggOptions } from '../plain-options';

type Env = { Variables: { body?: unknown } };

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function view(c: Context): View {
  return { body: c.get('body'), headers: c.req.header(), params: c.req.param() };
}

function rendered(c: Context, r: { status: number; body: unknown }): Response {
  return c.json(r.body, r.status as 402);
}

/** Hono on Node (@hono/node-server) in the shared table. */
export function honoAdapter(name: string, defaultCustomer: (v: View) => string | undefined): Adapter {
  return {
    name,
    kind: 'hono',
    build(options) {
      const runs = new Map<string, number>();
      const errors: unknown[] = [];
      const app = new Hono<Env>();
      const lastErrorHandler: ErrorHandler = (error, c) => {
        errors.push(error);
        return c.json({ error: error.message }, 500);
      };
      app.onError(options.errorHandler === false ? lastErrorHandler : ho.entitlementErrorHandler({ onError: lastErrorHandler }));
      app.use(async function jsonBody(c, next) {
        if (c.req.header('content-type')?.startsWith('application/json')) c.set('body', await c.req.json());
        await next();
      });
      if (options.stigg !== false) {
        const s = options.stigg ?? {};
        const onDenied = s.onDenied;
        app.use(
          ho.stigg({
            entitlements: options.entitlements,
            customer: (c) => (s.customer ?? defaultCustomer)(view(c)),
            ...(s.resource ? { resource: (c: Context) => s.resource!(view(c)) } : {}),
            ...plainStiggOptions(s),
            ...(onDenied ? { onDenied: (d: Decision, c: Context) => rendered(c, onDenied(d, view(c))) } : {}),
          }),
        );
      }
      for (const route of options.routes) {
        const gates: MiddlewareHandler[] = route.gates.map((g) => {
          const usage = typeof g.usage === 'function' ? (c: Context) => g.usage(view(c)) : g.usage;
          const o = g.options;
          const routeOptions: ho.RequireFeatureOptions | undefined = o && {
            ...(o.resource ? { resource: (c: Context) => o.resource!(view(c)) } : {}),
            ...(o.requestedValues ? { requestedValues: valuesFor(o.requestedValues, (c: Context) => view(c)) } : {}),
            ...plainRouteOptions(o),
            ...(o.onDenied ? { onDenied: (d: Decision, c: Context) => rendered(c, o.onDenied!(d, view(c))) } : {}),
          };
          const mw = ho.requireFeature(g.featureId, usage, routeOptions);
          if (!options.countNext) return mw;
          const counter = options.countNext;
          return function counted(c: Context, next: Next) {
            return mw(c, () => {
              counter(String(g.featureId));
              return next();
            });
          };
        });
        const h = route.handler ?? {};
        const chain = [...((route.use?.hono ?? []) as MiddlewareHandler[]), ...gates];
        app.on([route.method.toUpperCase()], [route.path], ...chain, function handler(c: Context<Env>) {
          count(runs, route.path);
          if (h.throws === 'sync') throw h.error?.() ?? new Error('boom');
          async function run(): Promise<Response> {
            if (h.hold) await h.hold();
            if (h.throws === 'async') throw h.error?.() ?? new Error('boom');
            if (h.settle !== undefined) c.var.entitlement?.settle?.(h.settle);
            const stream = h.stream;
            if (stream) {
              const body = streamBody(stream.rest);
              return c.body(body, 200, { 'content-type': 'text/plain' });
            }
            const answer = c.json(
              {
                entitlement: c.var.entitlement ?? null,
                entitlements: c.var.entitlements ?? null,
                ...(h.bodyBytes ? { pad: 'x'.repeat(h.bodyBytes) } : {}),
              },
              (h.status ?? 200) as 200,
            );
            h.sent?.();
            return answer;
          }
          return run();
        });
      }
      const listener = getRequestListener(app.fetch);
      // @hono/node-server's listener answers its own errors (500); nothing is left to reject.
      return { server: http.createServer((req, res) => void listener(req, res)), runs, errors };
    },
  };
}
