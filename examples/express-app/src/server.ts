import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Stigg, createEntitlements, type Logger, type StiggClient } from 'stigg-gate';
import { startEmulator, type Emulator } from 'stigg-gate/emulator';
import { createApp } from './app';
import { banner, provisionDemoCustomers } from './demo';

const DEFAULT_API_URL = 'https://api.stigg.io/graphql';
const SHUTDOWN_GRACE_MS = 10_000;

function line(stream: NodeJS.WriteStream, level: string, meta: Record<string, unknown>, message: string): void {
  stream.write(`[${level}] ${message}${Object.keys(meta).length === 0 ? '' : ` ${JSON.stringify(meta)}`}\n`);
}

const logger = {
  info: (meta: Record<string, unknown>, message: string) => line(process.stdout, 'info', meta, message),
  warn: (meta: Record<string, unknown>, message: string) => line(process.stderr, 'warn', meta, message),
  error: (meta: Record<string, unknown>, message: string) => line(process.stderr, 'error', meta, message),
} satisfies Logger;

/** An environment variable, with an empty value read as unset. */
function env(name: string): string | undefined {
  const value = process.env[name];
  return value === '' ? undefined : value;
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`PORT=${value} is not a valid port. Please choose an integer from 0 (any free port) to 65535.`);
  }
  return port;
}

/** The Stigg API named by the environment, or else an in-process emulator with the demo customers. */
async function connect(apiUrl: string): Promise<{ client: StiggClient; emulator: Emulator | undefined }> {
  const apiKey = env('STIGG_SERVER_API_KEY');
  if (apiKey !== undefined) return { client: Stigg.createClient(apiKey, { apiUrl, logger }), emulator: undefined };
  const emulator = await startEmulator();
  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, logger });
  try {
    await provisionDemoCustomers(client);
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  return { client, emulator };
}

async function main(): Promise<void> {
  const port = parsePort(env('PORT'));
  const apiUrl = env('STIGG_API_URL') ?? DEFAULT_API_URL;
  const { client, emulator } = await connect(apiUrl);
  const entitlements = createEntitlements({ client, logger });
  const server = createServer(createApp({ client, entitlements, logger }));
  try {
    await new Promise<void>(function listen(resolve, reject) {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await entitlements.close();
    await emulator?.stop();
    throw error;
  }
  const { port: actualPort } = server.address() as AddressInfo;
  process.stdout.write(
    `${banner({ baseUrl: `http://127.0.0.1:${actualPort}`, emulatorUrl: emulator?.url, emulatorApiKey: emulator?.apiKey, apiUrl })}\n`,
  );

  let stopping = false;
  async function shutdown(signal: NodeJS.Signals): Promise<void> {
    if (stopping) {
      logger.warn({ signal }, 'signal again: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'no longer accepting connections; finishing requests and flushing usage');
    setTimeout(function forceExit() {
      logger.error({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown took longer than the grace period; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    await entitlements.close();
    if (emulator !== undefined) {
      logger.info({ usage: emulator.stats().usage }, 'usage recorded by the emulator');
      await emulator.stop();
    }
    logger.info({}, 'stopped');
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, function onSignal() {
      shutdown(signal).catch(function shutdownFailed(error: unknown) {
        logger.error({ error: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        process.exitCode = 1;
      });
    });
  }
}

main().catch(function startFailed(error: unknown) {
  logger.error({ error: error instanceof Error ? error.message : String(error) }, 'could not start the example');
  process.exitCode = 1;
});
