import type { FastifyPluginCallback, FastifyPluginOptions } from 'fastify';

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
