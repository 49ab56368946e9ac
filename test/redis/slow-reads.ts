import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StiggClient } from '../../src/client';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';

/**
 * A proxy in front of the emulator whose answers to entitlement reads arrive late: Stigg computes the
 * answer when the read comes in (before a plan change the test makes meanwhile), and the proxy hands it
 * over `holdReadsMs` later. Other operations pass at once. For the invalidation-versus-read races.
 */
export interface SlowReads {
  /** The GraphQL URL to give the engine under test. */
  readonly url: string;
  /** How long entitlement reads are held (0: not at all). */
  holdReadsMs: number;
  /** Entitlement reads held so far. */
  readonly held: number;
  close(): Promise<void>;
}

export async function startSlowReads(upstreamUrl: string): Promise<SlowReads> {
  let held = 0;
  const state = { holdReadsMs: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const isRead = /entitlementsState|GetEntitlement\b/.test(body);
      const hold = isRead ? state.holdReadsMs : 0;
      if (hold > 0) held += 1;
      void fetch(upstreamUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': String(req.headers['x-api-key']) },
        body,
      }).then(
        async (upstream) => {
          const text = await upstream.text();
          const answer = (): void => void res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
          if (hold > 0) setTimeout(answer, hold);
          else answer();
        },
        () => res.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return {
    url,
    get holdReadsMs() {
      return state.holdReadsMs;
    },
    set holdReadsMs(ms: number) {
      state.holdReadsMs = ms;
    },
    get held() {
      return held;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The invalidation races' stage: customer 'mover' on the growth plan with 4 campaigns used, the emulator behind a slow-reads proxy. */
export interface MoverStage {
  readonly emulator: Emulator;
  readonly slow: SlowReads;
  /** Straight to the emulator (the plan change, Stigg's own answer). */
  readonly direct: StiggClient;
  /** Through the proxy: the client of the engines under test. */
  readonly client: StiggClient;
  close(): Promise<void>;
}

export const MOVER_FEATURE = 'feature-02-campaigns';

export async function startMoverStage(): Promise<MoverStage> {
  const emulator = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: [{ id: 'mover', subscriptions: [{ planId: 'plan-revvenu-growth' }], usage: [{ featureId: MOVER_FEATURE, value: 4 }] }],
    },
  });
  const slow = await startSlowReads(emulator.url);
  return {
    emulator,
    slow,
    direct: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }),
    client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: slow.url, maxRetries: 0 }),
    close: async () => {
      await slow.close();
      await emulator.stop();
    },
  };
}
