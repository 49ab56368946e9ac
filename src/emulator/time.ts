import type { BillingPeriod, PromotionalEntitlementPeriod, ResetPeriod } from './catalog-types';

const DAY_MS = 86_400_000;

/** `anchor` moved by `count` calendar months (UTC), the day clamped to the month's length. */
export function addMonths(anchor: number, count: number): number {
  const d = new Date(anchor);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + count;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

function step(anchor: number, unit: ResetPeriod, count: number): number {
  switch (unit) {
    case 'DAY':
      return anchor + count * DAY_MS;
    case 'WEEK':
      return anchor + count * 7 * DAY_MS;
    case 'MONTH':
      return addMonths(anchor, count);
    case 'YEAR':
      return addMonths(anchor, count * 12);
  }
}

export interface Period {
  start: number;
  end: number;
}

const CACHE_LIMIT = 10_000;
const periods = new Map<string, Period>();
const isoStrings = new Map<number, string>();

/** The period of `unit` that contains `now`, counted from `anchor` (periods before the anchor collapse into the first). */
export function periodAt(anchor: number, unit: ResetPeriod, now: number): Period {
  const key = `${unit}${anchor}`;
  const cached = periods.get(key);
  if (cached !== undefined && cached.start <= now && now < cached.end) return cached;
  const period = computePeriod(anchor, unit, now);
  if (periods.size >= CACHE_LIMIT) periods.clear();
  periods.set(key, period);
  return period;
}

function computePeriod(anchor: number, unit: ResetPeriod, now: number): Period {
  if (now < anchor) return { start: anchor, end: step(anchor, unit, 1) };
  let count: number;
  if (unit === 'DAY' || unit === 'WEEK') {
    count = Math.floor((now - anchor) / (unit === 'DAY' ? DAY_MS : 7 * DAY_MS));
  } else {
    const a = new Date(anchor);
    const n = new Date(now);
    const months = (n.getUTCFullYear() - a.getUTCFullYear()) * 12 + (n.getUTCMonth() - a.getUTCMonth());
    count = unit === 'MONTH' ? months : Math.floor(months / 12);
    while (count > 0 && step(anchor, unit, count) > now) count -= 1;
    while (step(anchor, unit, count + 1) <= now) count += 1;
  }
  return { start: step(anchor, unit, count), end: step(anchor, unit, count + 1) };
}

export function billingUnit(period: BillingPeriod): ResetPeriod {
  return period === 'ANNUALLY' ? 'YEAR' : 'MONTH';
}

export function promotionEnd(period: PromotionalEntitlementPeriod, start: number, customEnd: number | null): number | null {
  switch (period) {
    case 'ONE_WEEK':
      return start + 7 * DAY_MS;
    case 'ONE_MONTH':
      return addMonths(start, 1);
    case 'SIX_MONTH':
      return addMonths(start, 6);
    case 'ONE_YEAR':
      return addMonths(start, 12);
    case 'LIFETIME':
      return null;
    case 'CUSTOM':
      return customEnd;
  }
}

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  if (ms === null) return null;
  let text = isoStrings.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (isoStrings.size >= CACHE_LIMIT) isoStrings.clear();
    isoStrings.set(ms, text);
  }
  return text;
}
