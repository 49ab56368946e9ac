import http from 'node:http';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import type { NextFunction, Request, Response } from 'express';
import Koa from 'koa';
import type { Context, Next } from 'koa';
import * as ex from '../../src/middleware/express';
import * as ko from '../../src/middleware/koa';
import type { Decision, Entitlements, Logger } from '../../src/core/types';
import type { StatusMapping } from '../../src/core/errors';
import { fastifyAdapter } from './adapters/fastify';
import { honoAdapter } from './adapters/hono';
import { nestAdapter } from './adapters/nest';
import { nextAdapter } from './adapters/next';
import { valuesFor } from './values';
import { STREAM_FIRST, STREAM_LAST } from './stream';
import { plainRouteOptions, plainStiggOptions } from './plain-options';

export { STREAM_FIRST, STREAM_LAST } from './stream';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const express4 = require('express4') as typeof express5;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Koa2 = require('koa2') as typeof Koa;

/** What resolvers and usage functions see, whatever the framework. */
export interface View {
  body: any;
  headers: http.IncomingHttpHeaders;
  params: Record<string, string>;
}

export interface Gate {
  featureId: any;
  usage?: any;
  options?: {
    resource?: (v: View) => any;
    /** A list, or a function of the request's view. */
    requestedValues?: readonly string[] | ((v: View) => any);
    statusMapping?: StatusMapping;
    onDenied?: (decision: Decision, v: View) => { status: number; body: unknown };
    reportWhen?: (status: number) => boolean;
    mode?: 'enforce' | 'shadow';
    rateLimitHeaders?: boolean;
  };
}

export interface HandlerSpec {
  status?: number;
  /** 'sync' throws in the handler, 'async' rejects (Express: next(err) from a promise). */
  throws?: 'sync' | 'async';
  /** Called when the handler starts; the handler then waits for the returned promise. */
  hold?: () => Promise<void>;
  /** Error to throw (default: new Error('boom')). */
  error?: () => unknown;
  /**
   * Streams `first` at once (status 200), then waits for `rest()`: 'end' writes `last` and ends the
   * body, 'fail' breaks the stream (an error after the response started).
   */
  stream?: { rest: () => Promise<'end' | 'fail'> };
  /** Reports this many units through the decision's settle() before answering. */
  settle?: number;
  /** Pads the JSON answer to about this many bytes. */
  bodyBytes?: number;
  /** Called once the handler handed its answer to the framework. */
  sent?: () => void;
}

export interface RouteSpec {
  method: 'get' | 'post';
  path: string;
  gates: Gate[];
  handler?: HandlerSpec;
  /** Raw middleware mounted before the gates (misuse tests), per framework. */
  use?: { express?: unknown[]; koa?: unknown[]; fastify?: unknown[]; hono?: unknown[]; next?: unknown[]; nest?: unknown[] };
}

export interface BuildOptions {
  entitlements: Entitlements;
  routes: RouteSpec[];
  /** false: do not mount stigg(). */
  stigg?:
    | false
    | {
        customer?: (v: View) => any;
        resource?: (v: View) => any;
        statusMapping?: StatusMapping;
        reportWhen?: (status: number) => boolean;
        onAbort?: 'commit' | 'release' | (() => number);
        rateLimitHeaders?: boolean;
        logger?: Logger;
        onDenied?: (decision: Decision, v: View) => { status: number; body: unknown };
      };
  /** Mounted around/after the routes; default true. */
  errorHandler?: boolean;
  /** Wraps each requireFeature so the test can count its next() calls. */
  countNext?: (featureId: string) => void;
}

export interface Built {
  server: http.Server;
  /** Handler runs, by path. */
  runs: Map<string, number>;
  /** Errors that reached the app's last error handler. */
  errors: unknown[];
}

export interface Adapter {
  name: string;
  kind: 'express' | 'koa' | 'fastify' | 'hono' | 'next' | 'nest';
  build(options: BuildOptions): Built;
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** The header our stand-in for the app's authentication reads. */
export const CUSTOMER_HEADER = 'x-test-customer';

function defaultCustomer(v: View): string | undefined {
  const value = v.headers[CUSTOMER_HEADER];
  return typeof value === 'string' ? value : undefined;
}

function expressAdapter(name: string, factory: typeof express5): Adapter {
  function view(req: Request): View {
    return { body: req.body, headers: req.headers, params: req.params as Record<string, string> };
  }
  return {
    name,
    kind: 'express',
    build(options) {
      const runs = new Map<string, number>();
      const errors: unknown[] = [];
      const app = factory();
      app.use(factory.json());
      if (options.stigg !== false) {
        const s = options.stigg ?? {};
        const onDenied = s.onDenied;
        app.use(
          ex.stigg({
            entitlements: options.entitlements,
            customer: (req) => (s.customer ?? defaultCustomer)(view(req)),
            ...(s.resource ? { resource: (req: Request) => s.resource!(view(req)) } : {}),
            ...plainStiggOptions(s),
            ...(onDenied
              ? {
                  onDenied: (d: Decision, req: Request, res: Response) => {
                    const r = onDenied(d, view(req));
                    res.status(r.status).json(r.body);
                  },
                }
              : {}),
          }),
        );
      }
      for (const route of options.routes) {
        const gates = route.gates.map((g) => {
          const usage = typeof g.usage === 'function' ? (req: Request) => g.usage(view(req)) : g.usage;
          const o = g.options;
          const routeOptions: ex.RequireFeatureOptions | undefined = o && {
            ...(o.resource ? { resource: (req: Request) => o.resource!(view(req)) } : {}),
            ...(o.requestedValues ? { requestedValues: valuesFor(o.requestedValues, (req: Request) => view(req)) } : {}),
            ...plainRouteOptions(o),
            ...(o.onDenied
              ? {
                  onDenied: (d: Decision, req: Request, res: Response) => {
                    const r = o.onDenied!(d, view(req));
                    res.status(r.status).json(r.body);
                  },
                }
              : {}),
          };
          const mw = ex.requireFeature(g.featureId, usage, routeOptions);
          if (!options.countNext) return mw;
          const counter = options.countNext;
          return function counted(req: Request, res: Response, next: NextFunction) {
            return mw(req, res, (err?: unknown) => {
              counter(String(g.featureId));
              next(err);
            });
          };
        });
        const h = route.handler ?? {};
        app[route.method](
          route.path,
          ...((route.use?.express ?? []) as never[]),
          ...gates,
          function handler(_req: Request, res: Response, next: NextFunction) {
            count(runs, route.path);
            if (h.throws === 'sync') throw h.error?.() ?? new Error('boom');
            async function run(): Promise<void> {
              if (h.hold) await h.hold();
              if (h.throws === 'async') throw h.error?.() ?? new Error('boom');
              if (h.settle !== undefined) res.locals.entitlement?.settle?.(h.settle);
              if (h.stream) {
                res.status(200).type('text/plain');
                res.write(STREAM_FIRST);
                if ((await h.stream.rest()) === 'end') res.end(STREAM_LAST);
                else res.destroy(new Error('stream broke'));
                return;
              }
              res.status(h.status ?? 200).json({
                entitlement: res.locals.entitlement ?? null,
                entitlements: res.locals.entitlements ?? null,
                ...(h.bodyBytes ? { pad: 'x'.repeat(h.bodyBytes) } : {}),
              });
              h.sent?.();
            }
            run().catch(next);
          },
        );
      }
      if (options.errorHandler !== false) app.use(ex.entitlementErrorHandler());
      app.use(function lastErrorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction) {
        errors.push(err);
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
      });
      return { server: http.createServer(app), runs, errors };
    },
  };
}

function koaAdapter(name: string, Factory: typeof Koa): Adapter {
  function view(ctx: Context): View {
    return {
      body: (ctx.request as { body?: unknown }).body,
      headers: ctx.headers,
      params: (ctx as { params?: Record<string, string> }).params ?? {},
    };
  }
  return {
    name,
    kind: 'koa',
    build(options) {
      const runs = new Map<string, number>();
      const errors: unknown[] = [];
      const app = new Factory();
      app.silent = true; // a stream cut off mid-way is an 'error' Koa would print; the tests read the outcome
      app.use(async function lastErrorHandler(ctx: Context, next: Next) {
        try {
          await next();
        } catch (err) {
          errors.push(err);
          ctx.status = 500;
          ctx.body = { error: err instanceof Error ? err.message : String(err) };
        }
      });
      app.use(async function jsonBody(ctx: Context, next: Next) {
        if (ctx.is('application/json')) {
          const chunks: Buffer[] = [];
          for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
          (ctx.request as { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        }
        await next();
      });
      if (options.errorHandler !== false) app.use(ko.entitlementErrorHandler());
      if (options.stigg !== false) {
        const s = options.stigg ?? {};
        const onDenied = s.onDenied;
        app.use(
          ko.stigg({
            entitlements: options.entitlements,
            customer: (ctx) => (s.customer ?? defaultCustomer)(view(ctx)),
            ...(s.resource ? { resource: (ctx: Context) => s.resource!(view(ctx)) } : {}),
            ...plainStiggOptions(s),
            ...(onDenied
              ? {
                  onDenied: (d: Decision, ctx: Context) => {
                    const r = onDenied(d, view(ctx));
                    ctx.status = r.status;
                    ctx.body = r.body;
                  },
                }
              : {}),
          }),
        );
      }
      // A tiny router: exact method and path, with `:name` params.
      const routes = options.routes.map((route) => {
        const names: string[] = [];
        const pattern = new RegExp(
          `^${route.path.replace(/:(\w+)/g, (_m, n: string) => {
            names.push(n);
            return '([^/]+)';
          })}$`,
        );
        const gates = route.gates.map((g) => {
          const usage = typeof g.usage === 'function' ? (ctx: Context) => g.usage(view(ctx)) : g.usage;
          const o = g.options;
          const routeOptions: ko.RequireFeatureOptions | undefined = o && {
            ...(o.resource ? { resource: (ctx: Context) => o.resource!(view(ctx)) } : {}),
            ...(o.requestedValues ? { requestedValues: valuesFor(o.requestedValues, (ctx: Context) => view(ctx)) } : {}),
            ...plainRouteOptions(o),
            ...(o.onDenied
              ? {
                  onDenied: (d: Decision, ctx: Context) => {
                    const r = o.onDenied!(d, view(ctx));
                    ctx.status = r.status;
                    ctx.body = r.body;
                  },
                }
              : {}),
          };
          const mw = ko.requireFeature(g.featureId, usage, routeOptions);
          if (!options.countNext) return mw;
          const counter = options.countNext;
          return function counted(ctx: Context, next: Next) {
            return mw(ctx, () => {
              counter(String(g.featureId));
              return next();
            });
          };
        });
        return { route, pattern, names, gates };
      });
      app.use(function router(ctx: Context, next: Next) {
        for (const { route, pattern, names, gates } of routes) {
          const match = pattern.exec(ctx.path);
          const method = ctx.method === 'HEAD' ? 'get' : ctx.method.toLowerCase(); // as koa-router and Express route HEAD
          if (method !== route.method || !match) continue;
          (ctx as { params?: Record<string, string> }).params = Object.fromEntries(names.map((n, i) => [n, match[i + 1]!]));
          const h = route.handler ?? {};
          const chain = [
            ...((route.use?.koa ?? []) as typeof gates),
            ...gates,
            async function handler(c: Context) {
              count(runs, route.path);
              if (h.throws === 'sync') throw h.error?.() ?? new Error('boom');
              if (h.hold) await h.hold();
              if (h.throws === 'async') throw h.error?.() ?? new Error('boom');
              if (h.settle !== undefined) c.state.entitlement?.settle?.(h.settle);
              if (h.stream) {
                const body = new PassThrough();
                body.write(STREAM_FIRST);
                void h.stream.rest().then((how) => (how === 'end' ? body.end(STREAM_LAST) : body.destroy(new Error('stream broke'))));
                c.type = 'text/plain';
                c.body = body;
                return;
              }
              c.status = h.status ?? 200;
              c.body = {
                entitlement: c.state.entitlement ?? null,
                entitlements: c.state.entitlements ?? null,
                ...(h.bodyBytes ? { pad: 'x'.repeat(h.bodyBytes) } : {}),
              };
              h.sent?.();
            },
          ];
          function dispatch(i: number): Promise<unknown> {
            const fn = chain[i];
            if (!fn) return Promise.resolve();
            try {
              return Promise.resolve((fn as (c: Context, n: Next) => unknown)(ctx, () => dispatch(i + 1)));
            } catch (err) {
              return Promise.reject(err);
            }
          }
          return dispatch(0);
        }
        return next();
      });
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback handles its own rejections
      return { server: http.createServer(app.callback()), runs, errors };
    },
  };
}

export const adapters: Adapter[] = [
  expressAdapter('express 5', express5),
  expressAdapter('express 4', express4),
  koaAdapter('koa 3', Koa),
  koaAdapter('koa 2', Koa2),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  fastifyAdapter('fastify 5', require('fastify'), defaultCustomer),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  fastifyAdapter('fastify 4', require('fastify4'), defaultCustomer),
  honoAdapter('hono (node)', defaultCustomer),
  nextAdapter('next (route handlers)', defaultCustomer),
  nestAdapter('nest (express)', 'express', defaultCustomer),
  nestAdapter('nest (fastify)', 'fastify', defaultCustomer),
];

/** Listen on a free loopback port; resolves to the base URL. */
export function listen(server: http.Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

export function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** A promise with its resolver, for holding a handler open. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export { ex, ko };
