import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Entitlements, Logger, StiggClient } from 'stigg-gate';
import type { Emulator } from 'stigg-gate/emulator';
import { STIGG_ENTITLEMENTS, StiggGuard, StiggModule } from 'stigg-gate/nest';
import { AppController, customerOf } from './app.controller';
import { DemoAuthGuard } from './auth.guard';
import { ReportService } from './report.service';
import { STIGG_CLIENT } from './tokens';

export interface AppModuleOptions {
  client: StiggClient;
  logger: Logger;
  /** The in-process emulator when no STIGG_SERVER_API_KEY is set: stopped (after the last flush) on shutdown. */
  emulator: Emulator | undefined;
}

const EMULATOR = Symbol('EMULATOR');
const LOGGER = Symbol('LOGGER');

@Module({})
export class AppModule implements OnApplicationShutdown {
  constructor(
    @Inject(STIGG_ENTITLEMENTS) private readonly entitlements: Entitlements,
    @Inject(EMULATOR) private readonly emulator: Emulator | undefined,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  static register({ client, logger, emulator }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        StiggModule.forRoot({
          client,
          logger,
          customer: customerOf,
          // Authentication is a guard here, so StiggGuard is listed after it (below) instead of globally.
          useGlobalGuard: false,
        }),
      ],
      controllers: [AppController],
      providers: [
        ReportService,
        { provide: STIGG_CLIENT, useValue: client },
        { provide: EMULATOR, useValue: emulator },
        { provide: LOGGER, useValue: logger },
        // Global guards run in this order: who the user is first, then what their plan allows.
        { provide: APP_GUARD, useClass: DemoAuthGuard },
        { provide: APP_GUARD, useExisting: StiggGuard },
      ],
    };
  }

  /** StiggModule (an import, so its hook runs first) flushed and closed the entitlements; close() again only waits for that. */
  async onApplicationShutdown(): Promise<void> {
    await this.entitlements.close();
    if (this.emulator === undefined) {
      this.logger.info?.({}, 'stopped');
      return;
    }
    this.logger.info?.({ usage: this.emulator.stats().usage }, 'usage recorded by the emulator');
    await this.emulator.stop();
    this.logger.info?.({}, 'stopped');
  }
}
