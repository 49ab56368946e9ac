export type {
  AccessDeniedReason,
  CachedEntitlement,
  CheckInput,
  CloseOptions,
  CloseResult,
  Decision,
  DecisionSource,
  DeniedReason,
  EnforcementMode,
  Entitlements,
  EntitlementsEvents,
  EntitlementsUpstream,
  FallbackTake,
  Health,
  Lease,
  Logger,
  MaybePromise,
  PendingUsage,
  ReadyOptions,
  ReserveResult,
  ShadowCounts,
  Store,
  StoreCache,
  StoreHealth,
  StoreOutbox,
  StoreReservations,
  UpstreamCall,
  UpstreamEntitlement,
  UpstreamCheckReport,
  UpstreamEntitlementsState,
  UpstreamOutcome,
  UpstreamUsageResult,
  UsageMarkReader,
  UsageOverrun,
  UsageReport,
} from './types';
export {
  EntitlementDeniedError,
  EntitlementsClosedError,
  EntitlementUnavailableError,
  InvalidUsageError,
  MISCONFIGURATION_REASONS,
  MissingCustomerError,
  PAYMENT_REQUIRED_REASONS,
  statusForReason,
} from './errors';
export type { StatusMapping } from './errors';
export { StiggGateError } from './stigg-gate-error';
export { enableRequestContext, currentRequestContext } from './context';
export type { RequestContext } from './context';
export { createEntitlements } from './entitlements';
export { NotReadyError } from './readiness';
export type { NotReadyCause } from './readiness';
export { InvalidIdError, MAX_ID_LENGTH, idProblem, validateId } from './input';
export type { IdName } from './input';
export type { EntitlementsOptions } from './entitlements';
export { MemoryStore, OutboxFullError } from './memory-store';
export type { MemoryStoreOptions } from './memory-store';
export { CircuitOpenError } from './circuit-breaker';
export type { CircuitState } from './circuit-breaker';
export { isTransientError } from './usage-buffer';
