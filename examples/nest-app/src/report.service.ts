import { Injectable } from '@nestjs/common';
import { RequireFeature } from 'stigg-gate/decorators';

export interface MonthlyReport {
  readonly month: string;
  readonly visits: number;
  readonly conversions: number;
}

/**
 * A provider gated where it lives, not in the route: the customer comes from the request context
 * StiggInterceptor enters, so the method signature stays free of billing concerns.
 */
@Injectable()
export class ReportService {
  @RequireFeature('feature-04-analytics')
  async monthlyReport(month: string): Promise<MonthlyReport> {
    const seed = [...month].reduce((sum, char) => sum + char.charCodeAt(0), 0);
    return { month, visits: 1000 + (seed % 500), conversions: 40 + (seed % 25) };
  }
}
