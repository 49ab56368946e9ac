import 'reflect-metadata';
import { Readable } from 'node:stream';
import {
  Body,
  Catch,
  Controller,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Injectable,
  Post,
  StreamableFile,
  type ArgumentsHost,
  type ExceptionFilter,
  type INestApplication,
  type ModuleMetadata,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { ExecutionContext } from '@nestjs/common';
import { ReportUsage, RequireFeature } from 'stigg-gate/decorators';
import { ANALYTICS, CAMPAIGNS, TEMPLATES } from '../decorators/rig';

/** Handler and service-method runs, by name; reset per test. */
export const runs = new Map<string, number>();

function ran(name: string): void {
  runs.set(name, (runs.get(name) ?? 0) + 1);
}

export function customerFromHeader(context: ExecutionContext): string | undefined {
  const value: unknown = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers['x-customer'];
  return typeof value === 'string' ? value : undefined;
}

@Injectable()
export class ReportService {
  @RequireFeature(ANALYTICS)
  async monthly(): Promise<{ visits: number }> {
    ran('ReportService.monthly');
    return { visits: 42 };
  }
}

@Controller()
export class GatedController {
  constructor(private readonly reports: ReportService) {}

  @Post('templates')
  @RequireFeature(TEMPLATES, 1)
  async createTemplate(): Promise<{ created: true }> {
    ran('createTemplate');
    return { created: true };
  }

  @Get('analytics')
  @RequireFeature(ANALYTICS)
  async analytics(): Promise<{ visitors: number }> {
    ran('analytics');
    return { visitors: 1234 };
  }

  @Post('failing')
  @RequireFeature(TEMPLATES, 1)
  async failing(): Promise<never> {
    ran('failing');
    throw new Error('boom');
  }

  @Post('rejected')
  @HttpCode(HttpStatus.ACCEPTED)
  @RequireFeature(TEMPLATES, 1)
  async rejected(): Promise<never> {
    ran('rejected');
    throw new HttpException('not today', HttpStatus.CONFLICT);
  }

  /** Usage from the body: the guard leaves it to the method's wrapper, which runs inside the request context. */
  @Post('campaigns')
  @RequireFeature(CAMPAIGNS, (body: { count: number }) => body.count)
  async createCampaigns(@Body() body: { count: number }): Promise<{ created: number }> {
    ran('createCampaigns');
    return { created: body.count };
  }

  /** Not gated itself: the service method it calls is. */
  @Get('report')
  async report(): Promise<{ visits: number }> {
    ran('report');
    return this.reports.monthly();
  }

  @Get('export')
  @RequireFeature(TEMPLATES, 1)
  async exportFile(): Promise<StreamableFile> {
    ran('exportFile');
    return new StreamableFile(Readable.from(['line 1\n', 'line 2\n']), { type: 'text/plain' });
  }

  /** Two features: the guard checks the constant one, the method's wrapper the one computed from the body. */
  @Post('bundle')
  @RequireFeature(TEMPLATES, 1)
  @RequireFeature(CAMPAIGNS, (body: { count: number }) => body.count)
  async bundle(@Body() body: { count: number }): Promise<{ created: number }> {
    ran('bundle');
    return { created: body.count };
  }

  /** The guard checks templates; @ReportUsage stays the wrapper's. */
  @Post('metered')
  @RequireFeature(TEMPLATES, 1)
  @ReportUsage(CAMPAIGNS, 2)
  async metered(): Promise<{ ok: true }> {
    ran('metered');
    return { ok: true };
  }

  @Get('open')
  open(): { ok: true } {
    ran('open');
    return { ok: true };
  }
}

/** The catch-all filter of Nest's documentation: its own body for everything, the status of HttpExceptions. */
@Catch()
export class CatchEverythingFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const status = exception instanceof HttpException ? exception.getStatus() : HttpStatus.INTERNAL_SERVER_ERROR;
    const response = host.switchToHttp().getResponse<{
      status?: (code: number) => { json: (body: unknown) => void };
      code?: (code: number) => { send: (body: unknown) => void };
    }>();
    const body = { statusCode: status, handledBy: 'CatchEverythingFilter' };
    if (typeof response.code === 'function') response.code(status).send(body);
    else response.status?.(status).json(body);
  }
}

export type Platform = 'express' | 'fastify';
export const platforms: Platform[] = ['express', 'fastify'];

/** A Nest application on `platform`, initialised and ready for supertest. */
export async function createApp(
  platform: Platform,
  metadata: ModuleMetadata,
  configure?: (app: INestApplication) => void,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    platform === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger: false })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  configure?.(app);
  await app.init();
  if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}
