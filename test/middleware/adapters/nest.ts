import 'reflect-metadata';
import http from 'node:http';
import {
  Catch,
  HttpException,
  Module,
  type ArgumentsHost,
  type DynamicModule,
  type ExceptionFilter,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { StiggModule, type StiggModuleOptions } from 'stigg-gate/nest';
import type { Decision } from '../../../src/core/types';
import type { Adapter, BuildOptions, View } from '../harness';
import { controllerFor, viewOf } from './nest-routes';
import { plainStiggOptions } from '../plain-options';

// stigg-gate/nest in the shared tables: each RouteSpec becomes a controller (./nest-routes), the
// BuildOptions' stigg options StiggModule.forRoot()'s, on @nestjs/platform-express or -fastify. The
// http.Server is returned at once; requests wait for app.init() (and Fastify's ready()).

type Platform = 'express' | 'fastify';

/** What RouteSpec.use.nest holds: Nest middleware (Express-style, the raw request and response on Fastify). */
type Middleware = (req: unknown, res: unknown, next: (error?: unknown) => void) => unknown;

interface ReplyLike {
  raw?: http.ServerResponse;
  code?: (status: number) => { send: (body: unknown) => void };
  status?: (status: number) => { json: (body: unknown) => void };
}

/**
 * The app's last filter: HttpExceptions (the app's own, and onDenied's) as their status and body, as
 * Nest's default filter answers them; every other error recorded and answered 500 { error }, or the
 * response destroyed when it had started (as the harness's Express error handler does).
 */
function lastErrorFilter(errors: unknown[]): ExceptionFilter {
  @Catch()
  class LastErrorFilter implements ExceptionFilter {
    catch(exception: unknown, host: ArgumentsHost): void {
      const response = host.switchToHttp().getResponse<ReplyLike>();
      const raw = (response.raw ?? response) as http.ServerResponse;
      let status = 500;
      let body: unknown;
      if (exception instanceof HttpException) {
        status = exception.getStatus();
        body = exception.getResponse();
      } else {
        errors.push(exception);
        body = { error: exception instanceof Error ? exception.message : String(exception) };
      }
      if (raw.headersSent) {
        raw.destroy();
        return;
      }
      if (typeof response.code === 'function') response.code(status).send(body);
      else response.status!(status).json(body);
    }
  }
  return new LastErrorFilter();
}

function stiggModule(options: BuildOptions, defaultCustomer: (v: View) => string | undefined): DynamicModule[] {
  if (options.stigg === false) return [];
  const s = options.stigg ?? {};
  const onDenied = s.onDenied;
  const forRoot: StiggModuleOptions = {
    entitlements: options.entitlements,
    customer: (context) => (s.customer ?? defaultCustomer)(viewOf(context)),
    ...(s.resource ? { resource: (context) => s.resource!(viewOf(context)) } : {}),
    ...plainStiggOptions(s),
    ...(onDenied
      ? {
          onDenied: (d: Decision, context) => {
            const r = onDenied(d, viewOf(context));
            return new HttpException(r.body as Record<string, unknown>, r.status);
          },
        }
      : {}),
    // The harness's errorHandler: false (no entitlementErrorHandler) is Nest's app without StiggExceptionFilter.
    ...(options.errorHandler === false ? { useExceptionFilter: false } : {}),
  };
  return [StiggModule.forRoot(forRoot)];
}

function appModule(options: BuildOptions, defaultCustomer: (v: View) => string | undefined, runs: Map<string, number>): object {
  const controllers = options.routes.map((route) => controllerFor(route, runs));
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      for (const route of options.routes) {
        const use = (route.use?.nest ?? []) as Middleware[];
        if (use.length > 0) consumer.apply(...use).forRoutes(route.path);
      }
    }
  }
  Reflect.decorate([Module({ imports: stiggModule(options, defaultCustomer), controllers })], AppModule);
  return AppModule;
}

async function boot(platform: Platform, module: object, errors: unknown[]): Promise<http.RequestListener> {
  const options = { logger: false as const, abortOnError: false };
  let app: INestApplication;
  if (platform === 'express') app = await NestFactory.create(module, new ExpressAdapter(), options);
  else app = await NestFactory.create(module, new FastifyAdapter(), options);
  app.useGlobalFilters(lastErrorFilter(errors));
  await app.init();
  const instance: unknown = app.getHttpAdapter().getInstance();
  if (platform === 'express') return instance as http.RequestListener;
  const fastify = instance as { ready(): PromiseLike<unknown>; routing: http.RequestListener };
  await fastify.ready();
  return (req, res) => fastify.routing(req, res);
}

/** NestJS (stigg-gate/nest's StiggModule, guard and interceptor) on one of its two HTTP platforms. */
export function nestAdapter(name: string, platform: Platform, defaultCustomer: (v: View) => string | undefined): Adapter {
  return {
    name,
    kind: 'nest',
    build(options) {
      const runs = new Map<string, number>();
      const errors: unknown[] = [];
      const ready = boot(platform, appModule(options, defaultCustomer, runs), errors);
      ready.catch(() => {});
      const server = http.createServer(function nestWhenReady(req, res) {
        ready.then(
          (listener) => listener(req, res),
          (error: unknown) => {
            errors.push(error);
            res.statusCode = 500;
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
          },
        );
      });
      return { server, runs, errors };
    },
  };
}
