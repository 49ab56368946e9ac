import { StiggClient } from '../../src/client';
import { createEntitlements, type Entitlements, type Logger } from '../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { forSuite, onFirstUse } from '../support/suite';

export const TEMPLATES = 'feature-01-templates'; // plan-revvenu-essentials: 10 a month

export interface LateSettleSuite {
  emu: Emulator;
  entitlements: Entitlements;
  /** What the entitlements warned of in the current test. */
  warnings: string[];
  logger: Logger;
}

/**
 * The late-settle suites' stage: `customerId` on the essentials plan, one engine for the suite whose
 * warnings are kept; the emulator's counts and the warnings start afresh with each test.
 */
export function lateSettleSuite(customerId: string): LateSettleSuite {
  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (_meta: unknown, message?: string) => void warnings.push(String(message)),
    error() {},
  };
  const stage = forSuite(async () => {
    const emu = await startEmulator({
      port: 0,
      catalog: { ...defaultCatalog, customers: [{ id: customerId, subscriptions: [{ planId: 'plan-revvenu-essentials' }] }] },
    });
    const entitlements = createEntitlements({ client: new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }), logger });
    return {
      emu,
      entitlements,
      async stop() {
        await entitlements.close();
        await emu.stop();
      },
    };
  });
  beforeEach(() => {
    stage.emu.reset();
    warnings.length = 0;
  });
  return { emu: onFirstUse(() => stage.emu), entitlements: onFirstUse(() => stage.entitlements), warnings, logger };
}
