import { failureKind } from './transient';
import { raceTimer } from '../util/timers';
import type { EntitlementsUpstream } from './types';
import { StiggGateError } from './stigg-gate-error';

/** The customer the readiness probe asks about: any answer from Stigg about it proves the key and the URL. */
export const READINESS_CUSTOMER = 'stigg-gate-readiness-probe';
export const DEFAULT_READY_TIMEOUT_MS = 5000;

export type NotReadyCause = 'auth' | 'not-found' | 'unreachable' | 'timeout' | 'unexpected';

const FIXES: Record<NotReadyCause, string> = {
  auth: "Stigg rejected the API key: use the environment's server API key (STIGG_SERVER_API_KEY, Settings > Account > Environments), not a client key.",
  'not-found': "Stigg's GraphQL endpoint is not at this URL: check apiUrl (Stigg's default, or the emulator's URL with /graphql).",
  unreachable: 'Stigg could not be reached: check apiUrl (host and port), DNS and the egress rules of this deployment.',
  timeout: 'Stigg did not answer in time: check the network path to Stigg, or give ready() a longer timeoutMs.',
  unexpected: 'Stigg answered in a way the gate does not expect: see the cause.',
};

/** `ready()` found Stigg unusable: `reason` says which way, the message says how to fix it. */
export class NotReadyError extends StiggGateError {
  override readonly name = 'NotReadyError';
  readonly errorCode: string = 'ERR_STIGG_GATE_NOT_READY';

  constructor(
    readonly reason: NotReadyCause,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`stigg-gate is not ready: ${FIXES[reason]} (${detail})`, { cause });
  }
}

function causeOf(error: unknown): NotReadyCause {
  const kind = failureKind(error);
  if (kind === 'auth') return 'auth';
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  if (record['name'] === 'StiggTimeoutError') return 'timeout';
  if (record['status'] === 404 || record['status'] === 405) return 'not-found';
  if (record['name'] === 'StiggNetworkError' || kind === 'transient') return 'unreachable';
  // A GraphQL error about the probe's customer is an answer from Stigg: the key and the URL work.
  return 'unexpected';
}

/** Any answer of Stigg's about a customer that need not exist; GraphQL errors about it count as answers. */
function answered(error: unknown): boolean {
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  return record['name'] === 'StiggGraphQLError' && failureKind(error) !== 'auth' && record['status'] !== 404;
}

/**
 * One cheap read (the entitlements of a customer that need not exist) within `timeoutMs`: resolves
 * when Stigg answered, rejects with a NotReadyError naming the cause and the fix otherwise.
 */
export async function probeUpstream(client: EntitlementsUpstream, timeoutMs: number): Promise<void> {
  const read = client.getEntitlementsState
    ? client.getEntitlementsState({ customerId: READINESS_CUSTOMER })
    : client.getEntitlement({ customerId: READINESS_CUSTOMER, featureId: READINESS_CUSTOMER });
  const timedOut = Symbol('timeout');
  let outcome: unknown;
  try {
    outcome = await raceTimer(Promise.resolve(read), timeoutMs, timedOut);
  } catch (error) {
    if (answered(error)) return;
    throw new NotReadyError(causeOf(error), error);
  }
  if (outcome === timedOut) throw new NotReadyError('timeout', new Error(`no answer within ${timeoutMs} ms`));
}
