import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { Stigg, type Logger, type StiggClient } from 'stigg-gate';
import { startEmulator, type Emulator } from 'stigg-gate/emulator';
import { AppModule } from './app.module';
import { banner, provisionDemoCustomers } from './demo';

const DEFAULT_API_URL = 'https://api.stigg.io/graphql';

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
  const app = await NestFactory.create(AppModule.register({ client, logger, emulator }), { logger: ['error', 'warn'] });
  // SIGTERM / SIGINT close the app: StiggModule then flushes pending usage to Stigg before the process exits.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(port, '127.0.0.1');
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  process.stdout.write(`${banner({ baseUrl: `http://127.0.0.1:${address.port}`, emulatorUrl: emulator?.url, apiUrl })}\n`);
}

main().catch(function startFailed(error: unknown) {
  logger.error({ error: error instanceof Error ? error.message : String(error) }, 'could not start the example');
  process.exitCode = 1;
});
