import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Inject,
  Post,
  Put,
  Query,
  Req,
  UnauthorizedException,
  type ExecutionContext,
} from '@nestjs/common';
import type { Entitlements, StiggClient } from 'stigg-gate';
import { RequireFeature } from 'stigg-gate/decorators';
import { STIGG_ENTITLEMENTS } from 'stigg-gate/nest';
import { demoUsers, type AuthenticatedRequest } from './auth.guard';
import { ReportService, type MonthlyReport } from './report.service';
import { STIGG_CLIENT } from './tokens';

export const upgradePlans: readonly string[] = ['plan-revvenu-essentials', 'plan-revvenu-growth'];

interface Template {
  readonly id: number;
  readonly owner: string;
  readonly name: string;
}

/** A text field of the body, or `fallback` when it is absent; numbers and booleans are kept as their text. */
function textOr(value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** Campaigns to create, from the body; anything but a whole number >= 0 answers 400. */
function campaignCount(body: { count?: unknown } | undefined): number {
  const count = body?.count;
  return typeof count === 'number' && Number.isInteger(count) ? count : Number.NaN;
}

export function customerOf(context: ExecutionContext): string | undefined {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().user?.stiggCustomerId;
}

@Controller()
export class AppController {
  private readonly templates: Template[] = [];
  private lastCampaignId = 0;

  constructor(
    private readonly reports: ReportService,
    @Inject(STIGG_ENTITLEMENTS) private readonly entitlements: Entitlements,
    @Inject(STIGG_CLIENT) private readonly client: Pick<StiggClient, 'provisionSubscription'>,
  ) {}

  @Get()
  index(): { routes: string[]; demoTokens: string[] } {
    return {
      routes: [
        'POST /templates',
        'POST /campaigns {"count": n}',
        'GET /analytics',
        'PUT /custom-domain',
        'GET /reports/monthly',
        'POST /upgrade {"planId": "..."}',
      ],
      demoTokens: [...demoUsers.keys()],
    };
  }

  /** One template per call: StiggGuard reserves 1 unit before the handler, reported once the 201 is sent. */
  @Post('templates')
  @RequireFeature('feature-01-templates', 1)
  async createTemplate(@Req() req: AuthenticatedRequest, @Body() body: { name?: unknown } | undefined): Promise<Template> {
    const template: Template = {
      id: this.templates.length + 1,
      owner: req.user?.id ?? 'unknown',
      name: textOr(body?.name, 'Untitled'),
    };
    this.templates.push(template);
    return template;
  }

  /** The usage is a function of the method's arguments: the method's own wrapper checks it, after the pipes. */
  @Post('campaigns')
  @RequireFeature('feature-02-campaigns', campaignCount)
  async createCampaigns(@Body() body: { count: number }): Promise<{ created: number[] }> {
    return { created: Array.from({ length: body.count }, () => ++this.lastCampaignId) };
  }

  @Get('analytics')
  @RequireFeature('feature-04-analytics')
  async showAnalytics(): Promise<{ visitors: number; conversionRate: number }> {
    return { visitors: 1234, conversionRate: 0.042 };
  }

  @Put('custom-domain')
  @RequireFeature('feature-03-custom-domain')
  async setCustomDomain(@Body() body: { domain?: unknown } | undefined): Promise<{ domain: string; status: string }> {
    return { domain: textOr(body?.domain, 'www.example.com'), status: 'pending-verification' };
  }

  @Get('reports/monthly')
  monthlyReport(@Query('month') month: string | undefined): Promise<MonthlyReport> {
    return this.reports.monthlyReport(month ?? new Date().toISOString().slice(0, 7));
  }

  @Post('upgrade')
  async upgrade(@Req() req: AuthenticatedRequest, @Body() body: { planId?: unknown } | undefined): Promise<Record<string, unknown>> {
    const user = req.user;
    if (user === undefined) throw new UnauthorizedException('Send Authorization: Bearer <token> to upgrade.');
    const planId = body?.planId ?? 'plan-revvenu-growth';
    if (typeof planId !== 'string' || !upgradePlans.includes(planId))
      throw new BadRequestException(`planId must be one of: ${upgradePlans.join(', ')}.`);
    const result = await this.client.provisionSubscription({
      customerId: user.stiggCustomerId,
      planId,
      billingPeriod: 'MONTHLY',
    });
    await this.entitlements.invalidate(user.stiggCustomerId);
    return {
      customerId: user.stiggCustomerId,
      planId,
      status: result.status,
      subscriptionId: result.subscription?.subscriptionId ?? null,
      checkoutUrl: result.checkoutUrl ?? null,
    };
  }
}
