import http from 'node:http';
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import * as fa from '../../../src/middleware/fastify';
import type { Decision } from '../../../src/core/types';
import type { Adapter, View } from '../harness';
import { STREAM_FIRST, STREAM_LAST } from '../stream';
import { valuesFor } from '../values';
import { plainRouteOptions, plainStiggOptions } from '../plain-options';

type Factory = (options?: object) => FastifyInstance;
type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function view(request: FastifyRequest): View {
  return { body: request.body, headers: request.headers, params: (request.params ?? {}) as Record<string, string> };
}

function sendRendered(reply: FastifyReply, rendered: { status: number; body: unknown }): void {
  reply.code(rendered.status).send(rendered.body);
}

/**
 * Fastify in the shared table: stiggPlugin and the routes live in a child scope (as an app's routes
 * usually do), whose errors the root error handler records. Requests wait for app.ready().
 */
export function fastifyAdapter(name: string, factory: Factory, defaultCustomer: (v: View) => string | undefined): Adapter {
  return {
    name,
    kind: 'fastify',
    build(options) {
      const runs = new Map<string, number>();
      const errors: unknown[] = [];
      const app = factory();
      app.setErrorHandler(function lastErrorHandler(error, _request, reply) {
        errors.push(error);
        reply.code(500).send({ error: error instanceof Error ? error.message : String(error) });
      });
      app.register(async function routesScope(scope) {
        if (options.stigg !== false) {
          const s = options.stigg ?? {};
          const onDenied = s.onDenied;
          await scope.register(fa.stiggPlugin, {
            entitlements: options.entitlements,
            customer: (request) => (s.customer ?? defaultCustomer)(view(request)),
            ...(s.resource ? { resource: (request: FastifyRequest) => s.resource!(view(request)) } : {}),
            ...plainStiggOptions(s),
            ...(onDenied
              ? {
                  onDenied: (d: Decision, request: FastifyRequest, reply: FastifyReply) => sendRendered(reply, onDenied(d, view(request))),
                }
              : {}),
          });
        }
        if (options.errorHandler !== false) scope.setErrorHandler(fa.entitlementErrorHandler());
        for (const route of options.routes) {
          const gates: Hook[] = route.gates.map((g) => {
            const usage = typeof g.usage === 'function' ? (request: FastifyRequest) => g.usage(view(request)) : g.usage;
            const o = g.options;
            const routeOptions: fa.RequireFeatureOptions | undefined = o && {
              ...(o.resource ? { resource: (request: FastifyRequest) => o.resource!(view(request)) } : {}),
              ...(o.requestedValues ? { requestedValues: valuesFor(o.requestedValues, (request: FastifyRequest) => view(request)) } : {}),
              ...plainRouteOptions(o),
              ...(o.onDenied
                ? {
                    onDenied: (d: Decision, request: FastifyRequest, reply: FastifyReply) =>
                      sendRendered(reply, o.onDenied!(d, view(request))),
                  }
                : {}),
            };
            const hook = fa.requireFeature(g.featureId, usage, routeOptions);
            if (!options.countNext) return hook;
            const counter = options.countNext;
            return function counted(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
              hook(request, reply, (err?: Error) => {
                counter(String(g.featureId));
                done(err);
              });
            };
          });
          const h = route.handler ?? {};
          const preHandler = [...((route.use?.fastify ?? []) as Hook[]), ...gates];
          scope.route({
            method: route.method.toUpperCase(),
            url: route.path,
            ...(preHandler.length > 0 ? { preHandler } : {}),
            handler: function handler(request, reply) {
              count(runs, route.path);
              if (h.throws === 'sync') throw h.error?.() ?? new Error('boom');
              async function run(): Promise<unknown> {
                if (h.hold) await h.hold();
                if (h.throws === 'async') throw h.error?.() ?? new Error('boom');
                if (h.settle !== undefined) request.entitlement?.settle?.(h.settle);
                if (h.stream) {
                  const body = new PassThrough();
                  body.write(STREAM_FIRST);
                  void h.stream.rest().then((how) => (how === 'end' ? body.end(STREAM_LAST) : body.destroy(new Error('stream broke'))));
                  return reply.code(200).type('text/plain').send(body);
                }
                const sent = reply.code(h.status ?? 200).send({
                  entitlement: request.entitlement ?? null,
                  entitlements: request.entitlements ?? null,
                  ...(h.bodyBytes ? { pad: 'x'.repeat(h.bodyBytes) } : {}),
                });
                h.sent?.();
                return sent;
              }
              return run();
            },
          });
        }
      });
      // supertest listens and closes the server per request, so the Fastify instance is never closed.
      const ready = Promise.resolve(app.ready());
      ready.catch(() => {});
      const server = http.createServer(function fastifyWhenReady(req, res) {
        ready.then(
          () => app.routing(req, res),
          (error: unknown) => {
            errors.push(error);
            res.statusCode = 500;
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
          },
        );
      });
      return { server, runs, errors };
    },
  };
}
