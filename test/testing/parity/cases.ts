import type { CustomerFixtures, ResourceFixtures } from '../../../src/testing';

/** 2026-01-15T00:00:00Z: usage periods of both backends start here. */
export const START = Date.UTC(2026, 0, 15);
const DAY = 24 * 60 * 60 * 1000;

export const CUSTOMERS: CustomerFixtures = {
  basic: {
    templates: { limit: 3, used: 1 },
    analytics: false,
    seats: { limit: 5, soft: true, used: 4 },
    model: { values: ['small'] },
    api: 'unlimited',
    export: true,
    calls: { limit: 2, reset: 'MONTH' },
    daily: { limit: 1, used: 1, reset: 'DAY' },
    quota0: { limit: 0 },
  },
  pro: {
    templates: 'unlimited',
    analytics: true,
    seats: { limit: 50 },
    model: { values: ['small', 'large'] },
    export: true,
    calls: { limit: 100, reset: 'MONTH' },
  },
  gone: 'archived',
  free: 'no-subscription',
};

export const RESOURCES: ResourceFixtures = {
  basic: { 'site-1': { domains: { limit: 2, used: 1 } }, 'site-2': { domains: { limit: 1 } } },
};

/** One request through a gated Express route: who (null: no customer), what, and the handler's status. */
export interface RequestStep {
  c: string | null;
  f: string;
  u?: number;
  v?: string[];
  r?: string;
  /** The handler's status (default 200). */
  s?: number;
  /** The status the app answers. */
  expect: number;
}

export type Step = RequestStep | { advance: number } | { fail: true };

export interface Case {
  name: string;
  steps: Step[];
}

const req = (c: string | null, f: string, expect: number, more: Partial<RequestStep> = {}): RequestStep => ({ c, f, expect, ...more });
const FAIL = { fail: true } as const;

export const CASES: Case[] = [
  // Grants
  { name: 'grant: an on/off feature', steps: [req('basic', 'export', 200)] },
  { name: 'grant: another plan’s on/off feature', steps: [req('pro', 'analytics', 200)] },
  { name: 'grant: one unit within the limit', steps: [req('basic', 'templates', 200, { u: 1 })] },
  { name: 'grant: up to the limit exactly', steps: [req('basic', 'templates', 200, { u: 2 })] },
  { name: 'grant: unlimited, any amount', steps: [req('basic', 'api', 200, { u: 1000 })] },
  { name: 'grant: unlimited on another plan', steps: [req('pro', 'templates', 200, { u: 5 })] },
  { name: 'grant: a plain access check of a used-up feature', steps: [req('basic', 'daily', 200)] },
  { name: 'grant: an enum value entitled', steps: [req('basic', 'model', 200, { v: ['small'] })] },
  { name: 'grant: two enum values entitled', steps: [req('pro', 'model', 200, { v: ['small', 'large'] })] },
  { name: 'grant: a resource with room', steps: [req('basic', 'domains', 200, { u: 1, r: 'site-1' })] },
  { name: 'grant: another resource, its own limit', steps: [req('basic', 'domains', 200, { u: 1, r: 'site-2' })] },
  // 402
  { name: '402: more than the limit leaves', steps: [req('basic', 'templates', 402, { u: 3 })] },
  {
    name: '402: the 4th template of the basic plan',
    steps: [req('basic', 'templates', 200, { u: 1 }), req('basic', 'templates', 200, { u: 1 }), req('basic', 'templates', 402, { u: 1 })],
  },
  { name: '402: a feature the plan lacks', steps: [req('basic', 'analytics', 402)] },
  { name: '402: used up for the day', steps: [req('basic', 'daily', 402, { u: 1 })] },
  { name: '402: a limit of 0', steps: [req('basic', 'quota0', 402, { u: 1 })] },
  { name: '402: a feature only another plan has', steps: [req('pro', 'daily', 402)] },
  { name: '402: a customer without a subscription', steps: [req('free', 'export', 402)] },
  { name: '402: past a resource’s limit', steps: [req('basic', 'domains', 402, { u: 2, r: 'site-1' })] },
  {
    name: '402: a resource used up by the request before',
    steps: [req('basic', 'domains', 200, { u: 1, r: 'site-2' }), req('basic', 'domains', 402, { u: 1, r: 'site-2' })],
  },
  { name: '402: a resource’s feature asked without the resource', steps: [req('basic', 'domains', 402, { u: 1 })] },
  // 403
  { name: '403: an archived customer', steps: [req('gone', 'export', 403)] },
  { name: '403: an unknown customer', steps: [req('nobody', 'export', 403)] },
  { name: '403: a feature nobody has', steps: [req('basic', 'ghost', 403)] },
  { name: '403: an enum value not entitled', steps: [req('basic', 'model', 403, { v: ['large'] })] },
  { name: '403: usage asked of an on/off feature', steps: [req('basic', 'export', 403, { u: 1 })] },
  { name: '403: usage asked of an enum feature', steps: [req('basic', 'model', 403, { u: 1 })] },
  { name: '403: values asked of a metered feature', steps: [req('basic', 'templates', 403, { v: ['x'] })] },
  { name: '403: an unknown resource', steps: [req('basic', 'domains', 403, { u: 1, r: 'site-9' })] },
  { name: '403: a value no plan has', steps: [req('pro', 'model', 403, { v: ['medium'] })] },
  // 401
  { name: '401: no customer, an on/off feature', steps: [req(null, 'export', 401)] },
  {
    name: '401: no customer, nothing reserved or reported',
    steps: [req(null, 'templates', 401, { u: 1 }), req('basic', 'templates', 200, { u: 2 })],
  },
  { name: '401: after a grant to someone else', steps: [req('basic', 'export', 200), req(null, 'export', 401)] },
  // 503
  { name: '503: Stigg unreachable, nothing cached', steps: [FAIL, req('basic', 'export', 503)] },
  {
    name: '503: then the retry is served and reported',
    steps: [FAIL, req('basic', 'templates', 503, { u: 1 }), req('basic', 'templates', 200, { u: 1 })],
  },
  {
    name: '503: a cached customer whose cache was dropped',
    steps: [req('pro', 'analytics', 200), FAIL, req('pro', 'analytics', 503), req('pro', 'analytics', 200)],
  },
  // Report after success only
  {
    name: 'report: a failed handler reports nothing and gives the units back',
    steps: [req('basic', 'templates', 500, { u: 1, s: 500 }), req('basic', 'templates', 200, { u: 2 })],
  },
  {
    name: 'report: a 404 reports nothing',
    steps: [req('basic', 'templates', 404, { u: 1, s: 404 }), req('basic', 'templates', 200, { u: 2 })],
  },
  { name: 'report: a 201 reports', steps: [req('basic', 'templates', 201, { u: 2, s: 201 }), req('basic', 'templates', 402, { u: 1 })] },
  {
    name: 'report: three failures hold nothing',
    steps: [
      req('pro', 'seats', 500, { u: 10, s: 500 }),
      req('pro', 'seats', 500, { u: 10, s: 500 }),
      req('pro', 'seats', 500, { u: 10, s: 500 }),
      req('pro', 'seats', 200, { u: 50 }),
    ],
  },
  {
    name: 'report: unlimited usage is reported after success only',
    steps: [req('basic', 'api', 200, { u: 5 }), req('basic', 'api', 500, { u: 5, s: 500 })],
  },
  // Settlement by the response
  {
    name: 'settle: 200, 400, 200',
    steps: [
      req('basic', 'templates', 200, { u: 1 }),
      req('basic', 'templates', 400, { u: 1, s: 400 }),
      req('basic', 'templates', 200, { u: 1 }),
      req('basic', 'templates', 402, { u: 1 }),
    ],
  },
  {
    name: 'settle: a resource’s units come back after a failure',
    steps: [req('basic', 'domains', 500, { u: 1, r: 'site-1', s: 500 }), req('basic', 'domains', 200, { u: 1, r: 'site-1' })],
  },
  {
    name: 'settle: a large limit, spent in parts',
    steps: [req('pro', 'calls', 200, { u: 60 }), req('pro', 'calls', 402, { u: 60 }), req('pro', 'calls', 200, { u: 40 })],
  },
  // Period reset
  {
    name: 'period: a month later the limit is whole again',
    steps: [
      req('basic', 'calls', 200, { u: 2 }),
      req('basic', 'calls', 402, { u: 1 }),
      { advance: 32 * DAY },
      req('basic', 'calls', 200, { u: 2 }),
    ],
  },
  {
    name: 'period: a day later the daily limit is back',
    steps: [req('basic', 'daily', 402, { u: 1 }), { advance: DAY }, req('basic', 'daily', 200, { u: 1 })],
  },
  {
    name: 'period: within the same month nothing resets',
    steps: [
      req('basic', 'calls', 200, { u: 1 }),
      { advance: 10 * DAY },
      req('basic', 'calls', 200, { u: 1 }),
      req('basic', 'calls', 402, { u: 1 }),
    ],
  },
  {
    name: 'period: the whole of a large limit again',
    steps: [req('pro', 'calls', 200, { u: 100 }), { advance: 31 * DAY }, req('pro', 'calls', 200, { u: 100 })],
  },
  // Soft limit
  { name: 'soft: up to the limit', steps: [req('basic', 'seats', 200, { u: 1 })] },
  { name: 'soft: past the limit, granted', steps: [req('basic', 'seats', 200, { u: 5 })] },
  {
    name: 'soft: again and again, all reported',
    steps: [req('basic', 'seats', 200, { u: 3 }), req('basic', 'seats', 200, { u: 3 }), req('basic', 'seats', 200, { u: 3 })],
  },
  { name: 'soft: a plain access check', steps: [req('basic', 'seats', 200)] },
  // Enum
  { name: 'enum: a plain access check', steps: [req('basic', 'model', 200)] },
  { name: 'enum: one value of two not entitled', steps: [req('basic', 'model', 403, { v: ['small', 'large'] })] },
  { name: 'enum: the other plan’s value', steps: [req('pro', 'model', 200, { v: ['large'] })] },
  { name: 'enum: a customer without a subscription', steps: [req('free', 'model', 402, { v: ['small'] })] },
  { name: 'enum: an archived customer', steps: [req('gone', 'model', 403, { v: ['small'] })] },
];
