"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.addMonths = addMonths;
exports.periodAt = periodAt;
exports.billingUnit = billingUnit;
exports.promotionEnd = promotionEnd;
exports.iso = iso;
const DAY_MS = 86_400_000;
/** `anchor` moved by `count` calendar months (UTC), the day clamped to the month's length. */
function addMonths(anchor, count) {
    const d = new Date(anchor);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth() + count;
    const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    return Date.UTC(year, month, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}
function step(anchor, unit, count) {
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
/** The period of `unit` that contains `now`, counted from `anchor` (periods before the anchor collapse into the first). */
function periodAt(anchor, unit, now) {
    if (now < anchor)
        return { start: anchor, end: step(anchor, unit, 1) };
    let count;
    if (unit === 'DAY' || unit === 'WEEK') {
        count = Math.floor((now - anchor) / (unit === 'DAY' ? DAY_MS : 7 * DAY_MS));
    }
    else {
        const a = new Date(anchor);
        const n = new Date(now);
        const months = (n.getUTCFullYear() - a.getUTCFullYear()) * 12 + (n.getUTCMonth() - a.getUTCMonth());
        count = unit === 'MONTH' ? months : Math.floor(months / 12);
        while (count > 0 && step(anchor, unit, count) > now)
            count -= 1;
        while (step(anchor, unit, count + 1) <= now)
            count += 1;
    }
    return { start: step(anchor, unit, count), end: step(anchor, unit, count + 1) };
}
function billingUnit(period) {
    return period === 'ANNUALLY' ? 'YEAR' : 'MONTH';
}
function promotionEnd(period, start, customEnd) {
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
function iso(ms) {
    return ms === null ? null : new Date(ms).toISOString();
}
//# sourceMappingURL=time.js.map