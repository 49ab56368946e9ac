export { startEmulator } from './server';
export type { Emulator, EmulatorFaults, EmulatorOptions, EmulatorWebhooks } from './server';
export { EmulatorState } from './state';
export type {
  AccessDeniedReason,
  ChangeEvent,
  EmulatorClock,
  EmulatorStats,
  RecordedEvent,
  SubscriptionStatus,
  CouponFilter,
  WebhookDelivery,
} from './state';
export { defaultCatalog, demoCustomers } from './default-catalog';
export { CatalogError, loadCatalogFile, validateCatalog } from './catalog';
export type {
  BillingModel,
  BillingPeriod,
  Catalog,
  CatalogAddon,
  CatalogCoupon,
  CatalogCustomer,
  CatalogEntitlement,
  CatalogFeature,
  CatalogPlan,
  CatalogPrice,
  CatalogProduct,
  CatalogPromotionalEntitlement,
  CatalogSubscription,
  CatalogUsage,
  CouponStatus,
  CouponType,
  Currency,
  FeatureType,
  MeterType,
  PricingType,
  PromotionalEntitlementPeriod,
  ResetPeriod,
} from './catalog-types';
export { EmulatorError } from './errors';
export type { EmulatorErrorCode } from './errors';
