import type { EnforcementMode, Entitlements, MaybePromise } from '../core';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any[] parameters: a typed method such as (count: number) => … is not assignable to (...args: unknown[]) => …
export type ArgsFunction<R> = (...args: any[]) => R;

/** Where the entitlements and the customer come from when there is no request context (or to override it). */
export interface DecoratorScopeOptions {
  /** The customer to check, from the method's arguments. Undefined falls back to the request context. */
  customer?: ArgsFunction<MaybePromise<string | undefined>>;
  /**
   * The resource (Stigg resourceId), from the method's arguments; replaces the context's resource.
   * Without it, the context's resource applies only when the customer came from the context too.
   */
  resource?: ArgsFunction<MaybePromise<string | undefined>>;
  /** The instance to use instead of the one stigg() or withCustomer() put in the context. */
  entitlements?: Entitlements;
}

/** The ENUM values a call needs, or a function of the method's arguments (sync or async). */
export type RequestedValues = readonly string[] | ArgsFunction<MaybePromise<readonly string[]>>;

/** The units a call actually used, from its result and arguments (a finite number >= 0). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any[] parameters: a typed method such as (count: number) => … is not assignable to (...args: unknown[]) => …
export type SettleUsage = (result: any, ...args: any[]) => number;

/** @RequireFeature's options: the scope, the ENUM values a call needs, and what it actually used. */
export interface RequireFeatureOptions extends DecoratorScopeOptions {
  /** Each must be entitled, else EntitlementDeniedError with RequestedValuesMismatch (403). */
  requestedValues?: RequestedValues;
  /**
   * Report what the call actually used instead of `requestedUsage` (Lease.settle): less gives the rest
   * back, more is reported too. E.g. reserve `max_tokens` and settle `(completion) => completion.usage.total_tokens`.
   */
  settle?: SettleUsage;
  /**
   * 'shadow' runs the method whatever the decision and counts what enforcement would deny
   * (entitlements.shadowCounts(), 'shadow:denied'); 'enforce' denies. Default: the engine's mode for the feature.
   */
  mode?: EnforcementMode;
}

/** A number of units, or a function of the method's arguments (sync or async). */
export type RequestedUsage = number | ArgsFunction<MaybePromise<number>>;

/** A number of units (negative lowers usage), or a function of the method's result and arguments. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any[] parameters: a typed method such as (count: number) => … is not assignable to (...args: unknown[]) => …
export type ReportedValue = number | ((result: any, ...args: any[]) => number);

/** What @RequireFeature records (and getFeatureRequirements returns). */
export interface FeatureRequirement {
  readonly featureId: string;
  readonly requestedUsage: RequestedUsage | undefined;
  readonly requestedValues: RequestedValues | undefined;
  readonly settle?: SettleUsage | undefined;
  /** The decorator's own mode; undefined: the engine's. */
  readonly mode?: EnforcementMode | undefined;
  readonly customer: DecoratorScopeOptions['customer'];
  readonly resource: DecoratorScopeOptions['resource'];
  readonly entitlements: Entitlements | undefined;
}

/** What @ReportUsage records (and getUsageReports returns). */
export interface UsageReportSpec {
  readonly featureId: string;
  readonly value: ReportedValue;
  readonly customer: DecoratorScopeOptions['customer'];
  readonly resource: DecoratorScopeOptions['resource'];
  readonly entitlements: Entitlements | undefined;
}

/** Methods a decorator accepts on its own: they must already return a promise, as the decorated method will. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any[] parameters: a typed method such as (count: number) => … is not assignable to (...args: unknown[]) => …
export type AsyncMethod = (...args: any[]) => PromiseLike<unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any[] parameters: a typed method such as (count: number) => … is not assignable to (...args: unknown[]) => …
export type AnyClass = abstract new (...args: any[]) => unknown;

/**
 * Works as a method or class decorator, in TypeScript's `experimentalDecorators` form and in the
 * standard (TC39) form. The legacy method form returns the descriptor of the gated method: called by
 * hand (JavaScript, Reflect.decorate), define that one on the prototype; the one passed in is not gated.
 */
export interface StiggDecorator {
  <T extends AsyncMethod>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T>;
  <C extends AnyClass>(target: C): void;
  <T extends AsyncMethod>(value: T, context: ClassMethodDecoratorContext<unknown, T>): T;
  <C extends AnyClass>(value: C, context: ClassDecoratorContext<C>): void;
}
