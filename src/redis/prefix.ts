import { DEFAULT_PREFIX } from './validate';

const CLUSTER_PREFIX = '{stigg-gate}:';

/**
 * Every operation is one Lua script over several keys, and the outbox is one queue for the whole
 * fleet (an acknowledgement updates the counters of many customers at once): on a Cluster all keys
 * must share one slot, so the prefix must hold a hash tag. Default '{stigg-gate}:' there.
 */
export function resolvePrefix(prefix: unknown, cluster: boolean): string {
  if (prefix === undefined) return cluster ? CLUSTER_PREFIX : DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new TypeError(
      `RedisStore: ${JSON.stringify(prefix)} is not a valid value for prefix. Please choose a non-empty string such as 'myapp:stigg:'.`,
    );
  }
  if (cluster) assertOneHashTag(prefix);
  return prefix;
}

/**
 * Exactly one '{', followed by a non-empty tag: what Redis hashes is then plain to read. With none (or
 * an empty first tag, '{}{myapp}:') every key lands in a slot of its own and each script fails with
 * CROSSSLOT; with two ('{a}{b}:') Redis hashes the first only, which a reader easily takes for the other.
 */
function assertOneHashTag(prefix: string): void {
  const opens = prefix.split('{').length - 1;
  const tag = hashTagOf(prefix);
  if (opens === 1 && tag !== undefined) return;
  const why =
    tag === undefined
      ? 'has none (Redis hashes the text between the first "{" and the first "}" after it, when not empty)'
      : `has ${opens} "{" (Redis hashes only the first tag, "${tag}")`;
  const name = tag ?? (prefix.replace(/[{}]/g, '').replace(/:$/, '') || 'stigg-gate');
  throw new TypeError(
    `RedisStore: on a Redis Cluster the prefix must hold exactly one non-empty hash tag so that every key lands in one slot; "${prefix}" ${why}. Please choose e.g. '{${name}}:'.`,
  );
}

/**
 * The hash tag Redis Cluster hashes a key by, as the server reads it: the text between the first '{'
 * and the first '}' after it, when not empty ('{}{app}:' has none: each key would land in its own slot).
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/** The keys of the fleet's one usage outbox. */
export interface OutboxKeys {
  reports: string;
  keys: string;
  queue: string;
  inFlight: string;
  attempts: string;
  sequence: string;
  order: string;
}

export function outboxKeys(prefix: string): OutboxKeys {
  return {
    reports: `${prefix}outbox`,
    keys: `${prefix}outbox:key`,
    queue: `${prefix}outbox:queue`,
    inFlight: `${prefix}outbox:inflight`,
    attempts: `${prefix}outbox:attempts`,
    sequence: `${prefix}outbox:seq`,
    order: `${prefix}outbox:order`,
  };
}

/** The customer id a core key starts with (customer, resource and feature joined by U+001F). */
export function customerOf(key: string): string {
  const end = key.indexOf('\u001f');
  return end === -1 ? key : key.slice(0, end);
}

/** SET_ENTITLEMENT's KEYS for one entry (see there). */
export function entitlementWriteKeys(prefix: string, key: string, customerId: string): string[] {
  return [
    `${prefix}ent:${key}`,
    `${prefix}cust:${customerId}`,
    `${prefix}pend:${key}`,
    `${prefix}lock:${key}`,
    `${prefix}acked:${key}`,
    `${prefix}gen:${customerId}`,
    `${prefix}fb:${key}`,
  ];
}
