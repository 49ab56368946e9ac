import 'reflect-metadata';
import { PassThrough } from 'node:stream';
import { Controller, Get, HttpCode, Post, StreamableFile, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { RequireFeature } from 'stigg-gate/decorators';
import { EntitlementDecision, type Decision } from 'stigg-gate/nest';
import type { RequireFeatureOptions } from '../../../src/decorators/types';
import type { Gate, HandlerSpec, RouteSpec, View } from '../harness';
import { STREAM_FIRST, STREAM_LAST } from '../stream';
import { valuesFor } from '../values';

// One controller class per RouteSpec, decorated by hand as `nest new`'s TypeScript would: the route's
// verb and path, @HttpCode (Nest answers a POST 201 unless told), one @RequireFeature per gate, and
// the handler's parameters: the harness's View first (so that usage, values and resource functions
// of the method's arguments read it, as they would read @Body()), then one @EntitlementDecision per gate.

/** The harness's View of a Nest request (Express's request or Fastify's: both carry body, headers, params). */
export function viewOf(context: ExecutionContext): View {
  const request = context.switchToHttp().getRequest<{ body?: unknown; headers: View['headers']; params?: Record<string, string> }>();
  return { body: request.body, headers: request.headers, params: request.params ?? {} };
}

const ViewArg = createParamDecorator((_data: unknown, context: ExecutionContext) => viewOf(context));

/** Gate options Nest's @RequireFeature has no place for (they are StiggModule's, for every route). */
const MODULE_ONLY = ['statusMapping', 'onDenied', 'reportWhen', 'rateLimitHeaders'] as const;

function requireFeature(gate: Gate): MethodDecorator {
  const o = gate.options ?? {};
  for (const key of MODULE_ONLY) {
    if (o[key] !== undefined) throw new Error(`nest adapter: @RequireFeature takes no per-route ${key} (StiggModule's option only)`);
  }
  const options: RequireFeatureOptions = {
    ...(o.resource ? { resource: (v: View) => o.resource!(v) } : {}),
    ...(o.requestedValues ? { requestedValues: valuesFor(o.requestedValues, (v: View) => v) } : {}),
    ...(o.mode ? { mode: o.mode } : {}),
  };
  const usage = typeof gate.usage === 'function' ? (v: View) => gate.usage(v) : gate.usage;
  return RequireFeature(gate.featureId, usage, Object.keys(options).length > 0 ? options : undefined) as MethodDecorator;
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

async function answer(h: HandlerSpec, decisions: ReadonlyArray<Decision | undefined>): Promise<unknown> {
  if (h.hold) await h.hold();
  if (h.throws === 'async') throw h.error?.() ?? new Error('boom');
  const granted = decisions.filter((d): d is Decision => d !== undefined);
  // As res.locals.entitlement on Express: the last gate's decision.
  const entitlement = granted.at(-1);
  if (h.settle !== undefined) entitlement?.settle?.(h.settle);
  if (h.stream) {
    const body = new PassThrough();
    body.write(STREAM_FIRST);
    void h.stream.rest().then((how) => (how === 'end' ? body.end(STREAM_LAST) : body.destroy(new Error('stream broke'))));
    return new StreamableFile(body, { type: 'text/plain' });
  }
  const result = {
    entitlement: entitlement ?? null,
    entitlements: granted.length > 0 ? Object.fromEntries(granted.map((d) => [d.featureId, d])) : null,
    ...(h.bodyBytes ? { pad: 'x'.repeat(h.bodyBytes) } : {}),
  };
  h.sent?.();
  return result;
}

/** A controller class for `route`, counting its handler's runs in `runs`. */
export function controllerFor(route: RouteSpec, runs: Map<string, number>): new () => object {
  const h = route.handler ?? {};
  class RouteController {
    handle(_view: View, ...decisions: Array<Decision | undefined>): Promise<unknown> {
      count(runs, route.path);
      if (h.throws === 'sync') throw h.error?.() ?? new Error('boom');
      return answer(h, decisions);
    }
  }
  Object.defineProperty(RouteController, 'name', { value: `RouteController${route.method.toUpperCase()}${route.path}` });
  const proto = RouteController.prototype;
  const params: MethodDecorator[] = [
    (target, key) => ViewArg()(target, key, 0),
    ...route.gates.map(
      (g, i): MethodDecorator =>
        (target, key) =>
          EntitlementDecision(String(g.featureId))(target, key, i + 1),
    ),
  ];
  const decorators = [
    (route.method === 'get' ? Get : Post)(route.path),
    HttpCode(h.status ?? 200),
    ...route.gates.map(requireFeature),
    ...params,
  ];
  const descriptor = Reflect.decorate(decorators, proto, 'handle', Object.getOwnPropertyDescriptor(proto, 'handle'));
  Object.defineProperty(proto, 'handle', descriptor);
  Reflect.decorate([Controller()], RouteController);
  return RouteController;
}
