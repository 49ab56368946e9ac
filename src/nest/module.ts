import { Inject, Module, UseFilters, type DynamicModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, ModulesContainer } from '@nestjs/core';
import { describeValue } from '../util/describe-value';
import { rejectUnknownOptions } from '../util/unknown-options';
import { stiggExceptionFilter } from './exception';
import { StiggGuard } from './guard';
import { StiggInterceptor } from './interceptor';
import {
  checkModuleSwitches,
  resolveModuleOptions,
  type StiggModuleAsyncOptions,
  type StiggModuleOptions,
  type StiggNestConfig,
} from './options';
import { STIGG_CONFIG, STIGG_ENTITLEMENTS } from './tokens';

const STIGG_FILTER_BINDING = Symbol.for('stigg-gate:nest:filter-binding');
const PATH_METADATA = 'path';
const EXCEPTION_FILTERS_METADATA = '__exceptionFilters__';

interface ControllerHolder {
  controllers: Map<unknown, { metatype?: unknown }>;
}

/**
 * Binds StiggExceptionFilter to every route handler of every controller, once. Nest tries route
 * filters before controller and global ones, so an app's own catch-all filter cannot turn a denial
 * into its own body or a 500; the filter catches stigg-gate's errors only. Runs while providers are
 * instantiated, before the router reads the filters of each route.
 */
function bindFilterToRoutes(modules: Iterable<ControllerHolder>): boolean {
  for (const moduleRef of modules) {
    for (const wrapper of moduleRef.controllers.values()) {
      const controller = wrapper.metatype;
      if (typeof controller !== 'function') continue;
      for (
        let proto = controller.prototype as object | null;
        proto !== null && proto !== Object.prototype;
        proto = Object.getPrototypeOf(proto) as object | null
      ) {
        for (const key of Object.getOwnPropertyNames(proto)) {
          if (key === 'constructor') continue;
          const descriptor = Object.getOwnPropertyDescriptor(proto, key);
          const handler: unknown = descriptor?.value;
          if (descriptor === undefined || typeof handler !== 'function') continue;
          if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
          const filters: unknown = Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, handler);
          if (Array.isArray(filters) && filters.includes(stiggExceptionFilter)) continue;
          UseFilters(stiggExceptionFilter)(proto, key, descriptor);
        }
      }
    }
  }
  return true;
}

function providersFor(config: Provider, switches: { useGlobalGuard?: boolean | undefined }): Provider[] {
  const providers: Provider[] = [
    config,
    {
      provide: STIGG_ENTITLEMENTS,
      useFactory: (resolved: StiggNestConfig) => resolved.entitlements,
      inject: [STIGG_CONFIG],
    },
    {
      provide: STIGG_FILTER_BINDING,
      useFactory: (modules: ModulesContainer, resolved: StiggNestConfig) =>
        resolved.useExceptionFilter && bindFilterToRoutes(modules.values() as Iterable<ControllerHolder>),
      inject: [ModulesContainer, STIGG_CONFIG],
    },
    StiggGuard,
    StiggInterceptor,
    // Always global: without the request context a gated controller method would check again, or find no customer.
    { provide: APP_INTERCEPTOR, useExisting: StiggInterceptor },
  ];
  if (switches.useGlobalGuard !== false) providers.push({ provide: APP_GUARD, useExisting: StiggGuard });
  return providers;
}

const EXPORTS = [STIGG_ENTITLEMENTS, STIGG_CONFIG, StiggGuard, StiggInterceptor];
const ASYNC_KEYS = ['imports', 'inject', 'useFactory', 'isGlobal', 'useGlobalGuard'];
const DECLARATION_KEYS = ['isGlobal', 'useGlobalGuard'] as const;

/**
 * Gates NestJS routes on Stigg entitlements. `forRoot({ client | entitlements, customer, … })` provides
 * the Entitlements instance (token STIGG_ENTITLEMENTS), registers StiggGuard and StiggInterceptor
 * globally, and renders denials as problem+json. On application shutdown it closes the instance it
 * created (flushing pending usage) or flushes the one it was given; call `app.enableShutdownHooks()`
 * so that SIGTERM reaches it.
 */
@Module({})
export class StiggModule implements OnApplicationShutdown {
  constructor(@Inject(STIGG_CONFIG) private readonly config: StiggNestConfig) {}

  static forRoot(options: StiggModuleOptions): DynamicModule {
    if (typeof options !== 'object' || options === null) resolveModuleOptions(options);
    checkModuleSwitches('StiggModule.forRoot()', options);
    return {
      module: StiggModule,
      global: options.isGlobal === true,
      providers: providersFor({ provide: STIGG_CONFIG, useFactory: () => resolveModuleOptions(options) }, options),
      exports: EXPORTS,
    };
  }

  static forRootAsync(options: StiggModuleAsyncOptions): DynamicModule {
    if (typeof options !== 'object' || options === null || typeof options.useFactory !== 'function') {
      throw new TypeError(
        `StiggModule.forRootAsync() needs { useFactory, inject?, imports? }, e.g. { imports: [ConfigModule], inject: [ConfigService], useFactory: (config) => ({ client: Stigg.createClient(config.get('STIGG_SERVER_API_KEY')), customer }) }; got ${describeValue(options)}.`,
      );
    }
    rejectUnknownOptions(options, ASYNC_KEYS, 'StiggModule.forRootAsync()');
    checkModuleSwitches('StiggModule.forRootAsync()', options);
    const { useFactory } = options;
    const config: Provider = {
      provide: STIGG_CONFIG,
      inject: (options.inject ?? []) as never[],
      useFactory: async function stiggModuleOptions(...args: unknown[]): Promise<StiggNestConfig> {
        const resolved = await useFactory(...args);
        for (const key of DECLARATION_KEYS) {
          if (typeof resolved === 'object' && resolved !== null && key in resolved) {
            throw new TypeError(
              `${key} is an option of StiggModule.forRootAsync({ ${key}, useFactory }) itself, not of the options useFactory returns: Nest needs it before the factory runs.`,
            );
          }
        }
        return resolveModuleOptions(resolved);
      },
    };
    return {
      module: StiggModule,
      global: options.isGlobal === true,
      imports: (options.imports ?? []) as DynamicModule['imports'],
      providers: providersFor(config, options),
      exports: EXPORTS,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.config.owned) await this.config.entitlements.close();
    else await this.config.entitlements.flush();
  }
}
