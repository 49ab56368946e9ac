import type { EntitlementsUpstream } from '../core';
import { isPlainObject } from '../util/plain-object';
import { rejectUnknownOptions } from '../util/unknown-options';
import { FakeStigg } from './fake-stigg';
import { layerOf } from './fixtures';

/** The environment variable that turns local fixtures on. */
export const OVERRIDES_VARIABLE = 'STIGG_GATE_OVERRIDES';

type Env = Record<string, string | undefined>;

interface Scope {
  process?: {
    env?: Env;
    emitWarning?(message: string, options: { type: string; code: string }): void;
  };
}

/** Makes a client answer entitlement reads and usage reports from the fixtures; its other calls stay Stigg's. */
export type LocalOverrides = <T extends EntitlementsUpstream>(client: T) => T;

function environment(): Env | undefined {
  return (globalThis as Scope).process?.env;
}

function warn(message: string): void {
  const scope = globalThis as Scope;
  if (typeof scope.process?.emitWarning === 'function') {
    scope.process.emitWarning(message, { type: 'StiggGateWarning', code: 'STIGG_GATE_OVERRIDES' });
  }
}

/**
 * Local development without Stigg: when STIGG_GATE_OVERRIDES holds fixtures (JSON: `{ "customers": {…},
 * "resources"?: {…} }`, the format of createTestEntitlements()), Stigg.createClient() answers entitlements
 * and takes usage from them, in memory, and says so in a process warning. Refused (an Error) when
 * NODE_ENV is production. Undefined when the variable is not set.
 */
export function localOverrides(env: Env | undefined = environment()): LocalOverrides | undefined {
  const raw = env?.[OVERRIDES_VARIABLE];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (env?.['NODE_ENV'] === 'production') {
    throw new Error(
      `${OVERRIDES_VARIABLE} is set while NODE_ENV is production: stigg-gate refuses to answer entitlements from local fixtures. Unset ${OVERRIDES_VARIABLE}, or do not run with NODE_ENV=production.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new TypeError(
      `${OVERRIDES_VARIABLE} must hold JSON fixtures, e.g. ${OVERRIDES_VARIABLE}='{"customers":{"cust-1":{"feature-04-analytics":true}}}' (or "$(cat fixtures.json)").`,
    );
  }
  if (!isPlainObject(parsed))
    throw new TypeError(`${OVERRIDES_VARIABLE} must hold an object: { "customers": { … }, "resources"?: { … } }.`);
  rejectUnknownOptions(parsed, ['customers', 'resources'], OVERRIDES_VARIABLE);
  const now = Date.now();
  const fake = new FakeStigg(Date.now, now);
  fake.layers.push(layerOf(OVERRIDES_VARIABLE, parsed['customers'], parsed['resources'], now));
  warn(
    `stigg-gate: ${OVERRIDES_VARIABLE} is set, so Stigg.createClient() answers entitlements and takes usage from local fixtures (${fake.layers[0]?.standing.size ?? 0} customers), not from Stigg. For local development only.`,
  );
  return function answerLocally<T extends EntitlementsUpstream>(client: T): T {
    const target: EntitlementsUpstream = client;
    target.getEntitlement = (query) => fake.getEntitlement(query);
    target.getEntitlementsState = (query) => fake.getEntitlementsState(query);
    target.reportUsageBulk = (input) => fake.reportUsageBulk(input);
    // Check reports (the reportChecks option) are taken and forgotten: there is no Stigg to tell.
    target.reportEntitlementCheckRequested = () => Promise.resolve(true);
    return client;
  };
}
