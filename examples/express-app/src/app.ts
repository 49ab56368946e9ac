import { STATUS_CODES } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import { StiggError, type Entitlements, type Logger, type StiggClient } from 'stigg-gate';
import { entitlementErrorHandler, requireFeature, stigg } from 'stigg-gate/express';
import { currentUser, demoAuth, demoUsers, type DemoUser } from './auth';
import { ReportService } from './report-service';

export const upgradePlans: readonly string[] = ['plan-revvenu-essentials', 'plan-revvenu-growth'];

export interface ExampleAppOptions {
  /** The Stigg client (or one pointed at the emulator); POST /upgrade provisions subscriptions with it. */
  client: Pick<StiggClient, 'provisionSubscription'>;
  /** From createEntitlements({ client }); the caller owns it and closes it on shutdown. */
  entitlements: Entitlements;
  /** DEMO ONLY token → user table. Default: demoUsers. */
  users?: ReadonlyMap<string, DemoUser>;
  /** Where server errors are logged. Default: nowhere. */
  logger?: Logger;
}

interface Template {
  readonly id: number;
  readonly owner: string;
  readonly name: string;
}

const silentLogger: Logger = { warn: function ignoreWarning() {}, error: function ignoreError() {} };

function problem(res: Response, status: number, detail: string): void {
  res.status(status).type('application/problem+json').json({ type: 'about:blank', title: STATUS_CODES[status], status, detail });
}

function lastResortErrorHandler(logger: Logger): ErrorRequestHandler {
  return function renderError(error: unknown, req, res, next) {
    if (res.headersSent) {
      next(error);
      return;
    }
    const given = (error as { status?: unknown } | null)?.status;
    if (typeof given === 'number' && given >= 400 && given < 500) {
      problem(res, given, error instanceof Error ? error.message : 'Bad request');
      return;
    }
    if (error instanceof StiggError) {
      logger.error({ method: req.method, path: req.path, error: error.message }, 'Stigg call failed');
      problem(res, 502, `Stigg answered: ${error.message}`);
      return;
    }
    logger.error({ method: req.method, path: req.path, error: error instanceof Error ? error.message : String(error) }, 'request failed');
    problem(res, 500, 'The request could not be completed.');
  };
}

/** The parsed JSON body's fields (express.json() leaves req.body untyped, or undefined without a body). */
function bodyOf(req: Request): Readonly<Record<string, unknown>> {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

/** A text field of the body, or `fallback` when it is absent; numbers and booleans are kept as their text. */
function textOr(value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** Campaigns to create, from the body; anything but a whole number >= 0 makes requireFeature answer 400. */
function campaignCount(req: Request): number {
  const count = bodyOf(req).count;
  return typeof count === 'number' && Number.isInteger(count) ? count : Number.NaN;
}

/** The example app: demo authentication, routes gated by requireFeature and @RequireFeature, and an upgrade route. */
export function createApp(options: ExampleAppOptions): Express {
  if (typeof options?.client?.provisionSubscription !== 'function') {
    throw new TypeError('createApp() needs options.client: pass Stigg.createClient(apiKey) from stigg-gate.');
  }
  if (typeof options.entitlements?.acquire !== 'function') {
    throw new TypeError('createApp() needs options.entitlements: pass createEntitlements({ client }) from stigg-gate.');
  }
  const { client, entitlements } = options;
  const users = options.users ?? demoUsers;
  const logger = options.logger ?? silentLogger;
  const reports = new ReportService();
  const templates: Template[] = [];
  let lastCampaignId = 0;

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json());
  app.use(demoAuth(users));
  app.use(stigg({ entitlements, customer: (req) => currentUser(req)?.stiggCustomerId, logger }));

  app.get('/', function index(_req, res) {
    res.json({
      routes: [
        'POST /templates',
        'GET /templates',
        'POST /campaigns {"count": n}',
        'GET /analytics',
        'PUT /custom-domain',
        'GET /reports/monthly',
        'POST /upgrade {"planId": "..."}',
      ],
      demoTokens: [...users.keys()],
    });
  });

  app.post('/templates', requireFeature('feature-01-templates', 1), function createTemplate(req: Request, res: Response) {
    const template: Template = {
      id: templates.length + 1,
      owner: currentUser(req)?.id ?? 'unknown',
      name: textOr(bodyOf(req).name, 'Untitled'),
    };
    templates.push(template);
    res.status(201).json(template);
  });

  app.get('/templates', function listTemplates(req, res) {
    const owner = currentUser(req)?.id;
    res.json(templates.filter((template) => template.owner === owner));
  });

  app.post('/campaigns', requireFeature('feature-02-campaigns', campaignCount), function createCampaigns(req: Request, res: Response) {
    const count = Number(bodyOf(req).count);
    const ids = Array.from({ length: count }, () => ++lastCampaignId);
    res.status(201).json({ created: ids });
  });

  app.get('/analytics', requireFeature('feature-04-analytics'), function showAnalytics(_req, res) {
    res.json({ visitors: 1234, conversionRate: 0.042 });
  });

  app.put('/custom-domain', requireFeature('feature-03-custom-domain'), function setCustomDomain(req: Request, res: Response) {
    res.json({ domain: textOr(bodyOf(req).domain, 'www.example.com'), status: 'pending-verification' });
  });

  app.get('/reports/monthly', async function monthlyReport(req: Request, res: Response) {
    const month = typeof req.query.month === 'string' ? req.query.month : new Date().toISOString().slice(0, 7);
    res.json(await reports.monthlyReport(month));
  });

  app.post('/upgrade', async function upgrade(req: Request, res: Response) {
    const user = currentUser(req);
    if (user === undefined) {
      problem(res, 401, 'Send Authorization: Bearer <token> to upgrade.');
      return;
    }
    const planId = bodyOf(req).planId ?? 'plan-revvenu-growth';
    if (typeof planId !== 'string' || !upgradePlans.includes(planId)) {
      problem(res, 400, `planId must be one of: ${upgradePlans.join(', ')}.`);
      return;
    }
    const result = await client.provisionSubscription({ customerId: user.stiggCustomerId, planId, billingPeriod: 'MONTHLY' });
    await entitlements.invalidate(user.stiggCustomerId);
    res.json({
      customerId: user.stiggCustomerId,
      planId,
      status: result.status,
      subscriptionId: result.subscription?.subscriptionId ?? null,
      checkoutUrl: result.checkoutUrl ?? null,
    });
  });

  app.use(entitlementErrorHandler());
  app.use(lastResortErrorHandler(logger));
  return app;
}
