/** Injection token of the Entitlements instance StiggModule owns (or was given): `@Inject(STIGG_ENTITLEMENTS)`. */
export const STIGG_ENTITLEMENTS = Symbol.for('stigg-gate:nest:entitlements');

/** Injection token of the module's validated configuration (internal to the guard and the interceptor). */
export const STIGG_CONFIG = Symbol.for('stigg-gate:nest:config');
