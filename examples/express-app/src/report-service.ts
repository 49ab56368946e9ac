import { RequireFeature } from 'stigg-gate/decorators';

export interface MonthlyReport {
  readonly month: string;
  readonly visits: number;
  readonly conversions: number;
}

/**
 * Service code gated where it lives, not in the route: the customer comes from the request context
 * that stigg() opened, so the method signature stays free of billing concerns.
 */
export class ReportService {
  @RequireFeature('feature-04-analytics')
  async monthlyReport(month: string): Promise<MonthlyReport> {
    const seed = [...month].reduce((sum, char) => sum + char.charCodeAt(0), 0);
    return { month, visits: 1000 + (seed % 500), conversions: 40 + (seed % 25) };
  }
}
