export { createTestEntitlements } from './test-entitlements';
export type { RecordFilter, TestEntitlements, TestEntitlementsOptions } from './test-entitlements';
export type { CustomerFixture, CustomerFixtures, FeatureFixture, ResetPeriod, ResourceFixtures } from './fixtures';
export type { TestClock } from './clock';
export type { DeliveredUsage, FailureKind } from './fake-stigg';
export type { ReportedUsage } from './recording-store';
export { UsageAssertionError } from './assertions';
export type { ExpectedReport } from './assertions';
