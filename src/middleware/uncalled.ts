/**
 * A factory mounted without its call (`app.use(requireFeature)`) is refused when the app is put together,
 * not at its first request, wherever the framework shows us the mount:
 * - Express's app.use() reads `fn.handle` (is it a sub-app?) and Koa's use() reads `fn._name` (its debug
 *   name), in both majors of each: on the factories these names are getters that throw;
 * - Fastify runs the onRoute hooks of stiggPlugin's scope for every route it registers: a route whose hooks
 *   hold a factory itself is refused there (refuseUncalledHooks), so app.ready() rejects.
 * What the frameworks do not show us still fails at the first request that reaches it, with the same
 * TypeError (TypeScript refuses all of these on every adapter): Express's router.use() and route methods
 * read only `fn.name`, @koa/router reads nothing, Fastify's app-level addHook() reads only `fn.constructor`,
 * and Hono's use() reads nothing of a handler and has no start event.
 */

type Factory = (first: never) => unknown;

/** What a framework passes a mounted middleware first: every factory's own check refuses it. */
const MOUNTED_AS_MIDDLEWARE = { headers: {}, method: 'GET' };

const factories = new WeakSet<Factory>();

/** Throws the TypeError the factory throws when a framework calls it as a middleware (its message names the fix). */
function refuse(factory: Factory): never {
  factory(MOUNTED_AS_MIDDLEWARE as never);
  throw new TypeError(`${factory.name} was mounted without being called: call it, e.g. ${factory.name}(…).`);
}

/** Refuses `factory` mounted without its call where the framework reads `property` of what it mounts. */
export function refuseUncalledMount(factory: Factory, property: 'handle' | '_name' | null): void {
  factories.add(factory);
  if (property === null) return;
  Object.defineProperty(factory, property, {
    configurable: true,
    enumerable: false,
    get: function uncalledFactory() {
      return refuse(factory);
    },
  });
}

/** Fastify's onRoute: throws when a lifecycle hook (or the handler) of the route is a factory itself. */
export function refuseUncalledHooks(route: object): void {
  for (const value of Object.values(route)) {
    for (const fn of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (typeof fn === 'function' && factories.has(fn as Factory)) refuse(fn as Factory);
    }
  }
}
