import type { FastifyInstance, FastifyPluginCallback, FastifyPluginOptions, FastifyReply, FastifyRequest } from 'fastify';
import type { Decision } from '../../core';
import { afterRequestContextEnabled, isRequestContextEnabled, requestContextStorage } from '../../core/internal';
import * as g from '../gate';
import type { ProblemDetails } from '../problem';
import { refuseUncalledHooks } from '../uncalled';

/** Renders a denial yourself instead of the default problem+json response. It must send the reply. */
export type OnDenied = (decision: Decision, request: FastifyRequest, reply: FastifyReply, problem: ProblemDetails) => void | Promise<void>;

/** stiggPlugin's options: the same as stigg() for Express and Koa, resolvers taking (request, reply). */
export type StiggPluginOptions = g.StiggOptionsFor<FastifyRequest, OnDenied, FastifyReply>;

export const flavor: g.Flavor = { module: 'stigg-gate/fastify', arg: 'request', customerExample: 'request.user?.stiggCustomerId' };
/** Options Fastify's register() itself takes; they are not stiggPlugin's to validate. */
const REGISTER_KEYS: ReadonlySet<string> = new Set(['prefix', 'logLevel', 'logSerializers']);
const kConfig = Symbol.for('stigg-gate.fastify.config');
const kGate = Symbol.for('stigg-gate.fastify.gate');

export type Config = g.StiggConfig<FastifyRequest, OnDenied>;
export type Gate = g.RequestGate<FastifyRequest, OnDenied>;
type ConfiguredInstance = FastifyInstance & { [kConfig]?: Config };
type GatedRequest = FastifyRequest & { [kGate]: Gate | null };

/**
 * What `fastify-plugin` does, without its CommonJS module (its `require('node:path')` crashes ES module
 * bundles): Fastify reads these symbols at registration. `skip-override` runs the plugin in the
 * registering scope (not in a child scope of its own); `plugin-meta` carries the Fastify versions
 * Fastify checks and the name it reports in errors and `printPlugins()`.
 */
export function sharedScopePlugin<Options extends FastifyPluginOptions>(
  plugin: FastifyPluginCallback<Options>,
  meta: { name: string; fastify: string },
): FastifyPluginCallback<Options> {
  const marked = plugin as FastifyPluginCallback<Options> & Record<symbol, unknown>;
  marked[Symbol.for('skip-override')] = true;
  marked[Symbol.for('fastify.display-name')] = meta.name;
  marked[Symbol.for('plugin-meta')] = meta;
  return marked;
}

/** The stiggPlugin config of the scope `request`'s route is in, if any. */
export function configOf(request: FastifyRequest): Config | undefined {
  return (request.server as ConfiguredInstance)[kConfig];
}

/** The request's gate, made on first use, when its route is in a stiggPlugin scope (else undefined). */
export function scopedGate(request: FastifyRequest, reply: FastifyReply): Gate | undefined {
  const config = configOf(request);
  return config === undefined ? undefined : gateOf(request, reply, config);
}

function gateOf(request: FastifyRequest, reply: FastifyReply, config: Config): Gate {
  const held = (request as GatedRequest)[kGate];
  if (held !== null && held !== undefined && held.config === config) return held;
  const gate: Gate = new g.RequestGate<FastifyRequest, OnDenied>(config, request, request.method, reply);
  (request as GatedRequest)[kGate] = gate;
  return gate;
}

function ownOptions(options: unknown): unknown {
  if (typeof options !== 'object' || options === null || g.looksLikeRequest(options)) return options;
  return Object.fromEntries(Object.entries(options).filter(([key]) => !REGISTER_KEYS.has(key)));
}

function registerStigg(fastify: FastifyInstance, options: StiggPluginOptions, done: (error?: Error) => void): void {
  if (typeof (fastify as Partial<FastifyInstance>).register !== 'function') {
    throw new TypeError(
      'stiggPlugin is a Fastify plugin, not a hook: register it with app.register(stiggPlugin, { entitlements, customer }) (stigg-gate/fastify).',
    );
  }
  let config: Config;
  try {
    config = g.resolveStiggOptions<FastifyRequest, OnDenied>(flavor, ownOptions(options));
  } catch (error) {
    done(error as Error);
    return;
  }
  // Marked skip-override, this runs in the registering scope: that scope and its children see the config
  // (inherited through the instance prototype), sibling scopes do not.
  (fastify as ConfiguredInstance)[kConfig] = config;
  // { preHandler: requireFeature } (the factory itself) fails the route's registration, hence app.ready().
  fastify.addHook('onRoute', refuseUncalledHooks);
  if (!fastify.hasRequestDecorator('entitlement')) {
    fastify.decorateRequest('entitlement', null);
    fastify.decorateRequest('entitlements', null);
    fastify.decorateRequest(kGate as unknown as string, null);
  }
  // The request context (AsyncLocalStorage, for decorated service methods) costs a hook on every
  // request, so it is only entered when stigg-gate/decorators is loaded. Loaded later, only gated
  // routes enter it (in requireFeature), and the app is told why.
  if (isRequestContextEnabled()) {
    fastify.addHook('onRequest', function stiggRequestContext(request, reply, next) {
      requestContextStorage.run(gateOf(request, reply, config), next);
    });
  } else {
    afterRequestContextEnabled(function warnLateDecorators() {
      config.logger.warn(
        { module: flavor.module },
        'stigg-gate: stigg-gate/decorators was loaded after stiggPlugin was registered, so decorated methods find the request only on routes gated with requireFeature. Import stigg-gate/decorators before app.register(stiggPlugin, ...).',
      );
    });
  }
  done();
}

/**
 * Registers the gate for this encapsulation context and its children:
 * `app.register(stiggPlugin, { entitlements, customer: (request) => request.user?.stiggCustomerId })`.
 * Routes are gated one by one with `{ preHandler: requireFeature('feature-id', usage?) }`.
 */
export const stiggPlugin: FastifyPluginCallback<StiggPluginOptions> = sharedScopePlugin(registerStigg, {
  fastify: '4.x || 5.x',
  name: 'stigg-gate',
});
