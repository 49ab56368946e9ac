import type { StatusMapping, Decision } from '../../core';
import { goneResponse, problemResponse, settleAround, type FetchSide, type WaitUntil } from '../fetch-host';
import { afterResponse } from './after';
import * as g from '../gate';
import { enterRequest, runGate, rethrow, throwsMissing, type Host } from '../pipeline';
import type { ProblemDetails } from '../problem';

export * from '../adapter-exports';
export { stiggWebhook } from './webhook';

/*
 * Next.js App Router route handlers: a route is a function `(request, context) => Response`, so the
 * gates wrap it instead of running before it as middleware. The Fetch host (../fetch-host) settles by
 * the handler's Response, and the usage is delivered through Next's after() once the response is out.
 *
 *   const route = stigg({ entitlements, customer: async (request) => (await auth())?.user.stiggCustomerId });
 *   export const POST = route(requireFeature('feature-01-templates', 1), async (request, context, { entitlement }) => …);
 */

/** Renders a denial yourself instead of the default problem+json response. */
export type OnDenied = (decision: Decision, request: Request, problem: ProblemDetails) => Response | Promise<Response>;
export type StiggOptions = g.StiggOptionsFor<Request, OnDenied>;
export type RequireFeatureOptions = g.RequireFeatureOptionsFor<Request, OnDenied>;

/** What a gated handler gets after the route's own context: the decisions of its gates. */
export type Decisions = Readonly<g.DecisionBag>;
/** A route handler behind the gates: Next's (request, context) and the gates' decisions. */
export type GatedHandler<Context> = (request: Request, context: Context, decisions: Decisions) => Response | Promise<Response>;

const kRoute = Symbol('stigg-gate.next.route');
/** One gate of a route, as requireFeature() returns it: applied by the function stigg() returns. */
export interface FeatureGate {
  readonly [kRoute]: g.RouteConfig<Request, OnDenied>;
}

/** Wraps a route handler in its gates: `route(requireFeature(…), …, handler)`. */
export type StiggRoute = <Context = unknown>(
  ...gatesAndHandler: [...FeatureGate[], GatedHandler<Context>]
) => (request: Request, context: Context) => Promise<Response>;

const flavor: g.Flavor = {
  module: 'stigg-gate/next',
  arg: 'request',
  customerExample: '(await auth())?.user?.stiggCustomerId',
};
type Gate = g.RequestGate<Request, OnDenied>;
/** Next's after() as the Fetch host's waitUntil: one for the module, it holds no request state. */
const runtime: WaitUntil | undefined = afterResponse();

/** One request through a route: what the host needs and the Response the handler (or a gate) answered. */
interface Call {
  readonly request: Request;
  readonly gate: Gate;
  readonly bag: g.DecisionBag;
  headers: [string, string][] | undefined;
  res: Response;
}
type Next = () => Promise<unknown>;
type Answer = Response | undefined;

/** What settleAround reads of a call (../fetch-host): after() as the runtime, the call's gate. */
const side: FetchSide<Call> = { runtime: () => runtime, delivery: (call) => call.gate };

const host: Host<Request, OnDenied, Call, Next, undefined, Answer | Promise<Answer>> = {
  gate: (call) => call.gate,
  missing: throwsMissing(flavor),
  gone: (call, _next, metered) => metered && call.request.signal.aborted,
  left: goneResponse,
  record: (call, _next, decision) => g.recordDecision(call.bag, decision),
  async proceed(call, next, _none, settlement) {
    if (settlement === undefined) await next();
    else await settleAround(side, call, next, settlement);
    return undefined;
  },
  send: (_call, _next, problem, retryAfterSeconds) => problemResponse(problem, retryAfterSeconds),
  deny: (onDenied, decision, call, _next, _none, problem) => onDenied(decision, call.request, problem),
  fail: rethrow,
  header(call, _next, name, value) {
    (call.headers ??= []).push([name, value]);
  },
};

/** The headers the gates set (RateLimit fields) on the Response that goes out. */
function withHeaders(response: Response, headers: [string, string][] | undefined): Response {
  if (headers === undefined) return response;
  let out = response;
  try {
    for (const [name, value] of headers) out.headers.set(name, value);
  } catch {
    // Immutable headers (a Response from fetch()): the same body and status in a Response of our own.
    out = new Response(response.body, response);
    for (const [name, value] of headers) out.headers.set(name, value);
  }
  return out;
}

async function pass(call: Call, routes: readonly g.RouteConfig<Request, OnDenied>[], index: number, handler: () => Promise<Response>) {
  if (index === routes.length) {
    call.res = await handler();
    return call.res;
  }
  const answer = await runGate(host, call.gate, routes[index]!, call, () => pass(call, routes, index + 1, handler), undefined);
  if (answer !== undefined) call.res = answer;
  return call.res;
}

/** Sets up the gates' shared options (the customer, the entitlements); returns the function that wraps route handlers. */
export function stigg(options: StiggOptions): StiggRoute {
  const config = g.resolveStiggOptions<Request, OnDenied>(flavor, options);
  return function route<Context>(...args: [...FeatureGate[], GatedHandler<Context>]) {
    const handler = args[args.length - 1];
    if (typeof handler !== 'function') {
      throw new TypeError(
        "The last argument of a stigg-gate/next route must be the route handler: route(requireFeature('feature-01-templates', 1), async (request, context, { entitlement }) => Response.json(…)).",
      );
    }
    const routes = args.slice(0, -1).map((gate, at) => {
      const config = (gate as Partial<FeatureGate> | null)?.[kRoute];
      if (config === undefined) {
        throw new TypeError(
          `Argument ${at + 1} of a stigg-gate/next route is not requireFeature(…)'s result; pass requireFeature(featureId, usage?, options?).`,
        );
      }
      return config;
    });
    const gated = handler;
    return async function gatedRoute(request: Request, context: Context): Promise<Response> {
      const call: Call = {
        request,
        gate: new g.RequestGate<Request, OnDenied>(config, request, request.method),
        bag: {},
        headers: undefined,
        res: undefined as never,
      };
      const run = () => pass(call, routes, 0, () => Promise.resolve(gated(request, context, call.bag)));
      try {
        const response = await enterRequest(call.gate, run);
        return withHeaders(response, call.headers);
      } catch (error) {
        const rendered = g.renderThrown(error, undefined, config);
        if (rendered === undefined) throw error;
        return problemResponse(rendered.problem, rendered.retryAfterSeconds);
      }
    };
  };
}

/** One gate of a route: reserves `requestedUsage` (a number, or a function of the request) of `featureId`, by the rule of docs/usage.md. */
export function requireFeature(featureId: string, usage?: g.RequestedUsage<Request>, options?: RequireFeatureOptions): FeatureGate {
  return { [kRoute]: g.resolveRouteOptions<Request, OnDenied>(flavor, featureId, usage, options) };
}

/** For a route's own try/catch: the problem+json Response for stigg-gate's errors (a decorated method's denial), else undefined. */
export function entitlementErrorHandler(options?: { statusMapping?: StatusMapping | undefined }): (error: unknown) => Response | undefined {
  const { statusMapping } = g.resolveErrorHandlerOptions(flavor, options, 'entitlementErrorHandler()', ['statusMapping']);
  return function stiggEntitlementError(error) {
    const rendered = g.renderThrown(error, statusMapping, undefined);
    return rendered === undefined ? undefined : problemResponse(rendered.problem, rendered.retryAfterSeconds);
  };
}
