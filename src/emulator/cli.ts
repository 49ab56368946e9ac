#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startEmulator, type Emulator, type EmulatorOptions } from './server';

const USAGE = `Usage: stigg-gate-emulator [options]

Serves Stigg's GraphQL API on localhost (POST /graphql, GET /stats).

  --port N            port to listen on (default 0: a free port; the URL is printed)
  --host HOST         interface to bind (default 127.0.0.1)
  --catalog FILE      catalog JSON file (default: the Revvenu demo catalog)
  --api-key KEY       X-API-KEY clients must send (default emulator-server-key)
  --latency-ms N      added to every request (default 0)
  --failure-rate X    share of requests that fail, 0..1 (half HTTP 503, half dropped connections)
  --seed N            seed of the fault injection, so failures repeat (default 1)
  -h, --help          show this help
`;

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

function toNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new TypeError(`--${flag} takes a number, got "${value}".`);
  return n;
}

/** Parses the command line; throws TypeError with a fix-it message on bad input. */
export function parseCliArgs(argv: string[]): EmulatorOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      catalog: { type: 'string' },
      'api-key': { type: 'string' },
      'latency-ms': { type: 'string' },
      'failure-rate': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const options: EmulatorOptions = {};
  const port = toNumber('port', values.port);
  const latencyMs = toNumber('latency-ms', values['latency-ms']);
  const failureRate = toNumber('failure-rate', values['failure-rate']);
  const seed = toNumber('seed', values.seed);
  if (port !== undefined) options.port = port;
  if (latencyMs !== undefined) options.latencyMs = latencyMs;
  if (failureRate !== undefined) options.failureRate = failureRate;
  if (seed !== undefined) options.seed = seed;
  if (values.host !== undefined) options.host = values.host;
  if (values.catalog !== undefined) options.catalog = values.catalog;
  if (values['api-key'] !== undefined) options.apiKey = values['api-key'];
  return options;
}

/** Starts the emulator from a command line and stops it on SIGINT/SIGTERM. Resolves to the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  let options: EmulatorOptions | 'help';
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    io.err(`stigg-gate-emulator: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    io.out(USAGE);
    return 0;
  }
  let emulator: Emulator;
  try {
    emulator = await startEmulator(options);
  } catch (error) {
    io.err(`stigg-gate-emulator: ${(error as Error).message}\n`);
    return 1;
  }
  io.out(`Stigg emulator listening on ${emulator.url} (X-API-KEY: ${emulator.apiKey})\n`);
  return new Promise<number>((resolve) => {
    function shutdown(signal: NodeJS.Signals): void {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      io.out(`Stigg emulator stopping (${signal})\n`);
      emulator.stop().then(() => resolve(0), () => resolve(1));
    }
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  }).then((code) => {
    process.exitCode = code;
  });
}
