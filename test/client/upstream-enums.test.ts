/** Values of Stigg's schema that the core receives through the client: HOUR reset periods and ENUM features. */
import { nextPeriodEnd } from '../../src/core/decide';

describe("Stigg's EntitlementResetPeriod HOUR (new in the real schema)", () => {
  it('rolls a passed period end forward by whole hours, not by a year', () => {
    const end = Date.parse('2026-01-01T10:00:00.000Z');
    const now = Date.parse('2026-01-01T12:30:00.000Z');
    expect(new Date(nextPeriodEnd(end, 'HOUR', now) ?? 0).toISOString()).toBe('2026-01-01T13:00:00.000Z');
  });
});
