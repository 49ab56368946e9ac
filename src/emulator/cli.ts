#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadCatalogFile } from './catalog';
import { catalogSummary } from './catalog-summary';
import type { Catalog } from './catalog-types';
import { defaultCatalog, demoCustomers } from './default-catalog';
import { startEmulator, type Emulator, type EmulatorOptions } from './server';

const USAGE = `Usage: stigg-gate-emulator [options]

Serves Stigg's GraphQL API on localhost (POST /graphql; GET /stats with the API key), and admin
commands for a person (POST /admin/customers/:id/plan, /usage, /promotion, POST /admin/reset; with
the API key): the banner prints them ready to paste.

  --port N                 port to listen on (default 0: a free port; the URL is printed)
  --host HOST              interface to bind (default 127.0.0.1)
  --catalog FILE           catalog JSON file (default: the Revvenu demo catalog; format: docs/emulator.md)
  --demo                   provision the demo customers (demo-basic, demo-essentials, demo-growth, demo-promoted)
                           into the default catalog; a catalog file declares its own "customers"
  --api-key KEY            X-API-KEY clients must send (default emulator-server-key)
  --webhook-url URL        POST Stigg-shaped webhooks there when subscriptions or promotions change
  --webhook-secret SECRET  sent as the Stigg-Webhooks-Secret header
  --latency-ms N           added to every request (default 0)
  --failure-rate X         share of requests that fail, 0..1 (half HTTP 503, half dropped connections)
  --access-denied-reason R answer this reason on every denial, e.g. EntitlementNotFound (a reason newer than this schema)
  --seed N                 seed of the fault injection, so failures repeat (default 1)
  --cors ORIGIN            let pages of this origin call it from a browser (repeat it, or '*' for any);
                           by default a request from another origin is refused
  -h, --help               show this help
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
      demo: { type: 'boolean' },
      'api-key': { type: 'string' },
      'webhook-url': { type: 'string' },
      'webhook-secret': { type: 'string' },
      'latency-ms': { type: 'string' },
      'failure-rate': { type: 'string' },
      'access-denied-reason': { type: 'string' },
      seed: { type: 'string' },
      cors: { type: 'string', multiple: true },
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
  if (values.cors !== undefined) options.cors = values.cors.includes('*') ? '*' : values.cors;
  if (values['api-key'] !== undefined) options.apiKey = values['api-key'];
  if (values['access-denied-reason'] !== undefined) options.accessDeniedReason = values['access-denied-reason'];
  if (values.demo === true && values.catalog !== undefined) {
    throw new TypeError('--demo adds demo customers to the default catalog; with --catalog, declare "customers" in the file instead.');
  }
  if (values.catalog !== undefined) options.catalog = values.catalog;
  if (values.demo === true) options.catalog = { ...defaultCatalog, customers: demoCustomers };
  if (values['webhook-secret'] !== undefined && values['webhook-url'] === undefined)
    throw new TypeError('--webhook-secret needs --webhook-url.');
  if (values['webhook-url'] !== undefined) {
    options.webhooks = {
      url: values['webhook-url'],
      ...(values['webhook-secret'] === undefined ? {} : { secret: values['webhook-secret'] }),
    };
  }
  return options;
}

function loadedCatalog(options: EmulatorOptions): Catalog {
  return typeof options.catalog === 'string' ? loadCatalogFile(options.catalog) : (options.catalog ?? defaultCatalog);
}

/** The catalog's headline, then its features, plans (entitlements and limits), add-ons, coupons and customers. */
export function describeCatalog(options: EmulatorOptions, catalog: Catalog): string {
  const source =
    typeof options.catalog === 'string'
      ? options.catalog
      : options.catalog === undefined
        ? 'the default Revvenu catalog'
        : 'the default Revvenu catalog with the demo customers';
  const customers = catalog.customers ?? [];
  const who =
    customers.length === 0
      ? 'no customers yet: provision them (provisionCustomer, or the admin plan command below), or restart with --demo'
      : `customers: ${customers.map((c) => c.id).join(', ')}`;
  return `Catalog: ${source} (${catalog.plans.length} plans, ${catalog.features.length} features); ${who}\n${catalogSummary(catalog)}`;
}

/** Ready-to-paste curl lines for the admin commands (src/emulator/admin.ts), with ids from the catalog. */
export function adminCommands(origin: string, apiKey: string, catalog: Catalog): string {
  const customer = catalog.customers?.[0]?.id ?? 'customer-1';
  const plan = catalog.plans[catalog.plans.length - 1]?.id ?? 'plan-id';
  const metered = catalog.features.find((f) => f.featureType === 'NUMBER' && (f.meterType ?? 'None') !== 'None')?.id ?? 'feature-id';
  const promoted = catalog.features.find((f) => f.featureType === 'BOOLEAN')?.id ?? catalog.features[0]?.id ?? 'feature-id';
  const curl = `curl -s -H 'X-API-KEY: ${apiKey}'`;
  const at = `${origin}/admin/customers/${encodeURIComponent(customer)}`;
  return (
    "Admin commands (POST, with the API key; each answers the customer's entitlements after it):\n" +
    `  set a plan:        ${curl} -d '{"planId":"${plan}"}' ${at}/plan\n` +
    `  add usage:         ${curl} -d '{"featureId":"${metered}","value":1}' ${at}/usage\n` +
    `  grant a promotion: ${curl} -d '{"featureId":"${promoted}","period":"ONE_MONTH"}' ${at}/promotion\n` +
    `  reset everything:  ${curl} -X POST ${origin}/admin/reset\n`
  );
}

/** The usage recorded by DELTA reports, one line per customer|resource|feature. */
export function usageSummary(emulator: Emulator): string {
  const usage = Object.entries(emulator.stats().usage);
  if (usage.length === 0) return 'Usage recorded: none\n';
  const lines = usage.map(([key, value]) => {
    const [customer, resource, feature] = key.split('|');
    return `  ${customer}${resource === '' ? '' : ` (resource ${resource})`} ${feature}: ${value}`;
  });
  return `Usage recorded:\n${lines.join('\n')}\n`;
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
  let catalog: Catalog;
  try {
    catalog = loadedCatalog(options);
    emulator = await startEmulator({ ...options, catalog });
  } catch (error) {
    io.err(`stigg-gate-emulator: ${(error as Error).message}\n`);
    return 1;
  }
  const webhooks =
    options.webhooks === undefined
      ? ''
      : `Webhooks: POST ${options.webhooks.url}${options.webhooks.secret === undefined ? '' : ' (Stigg-Webhooks-Secret set)'}\n`;
  const origin = emulator.url.replace(/\/graphql$/, '');
  io.out(
    `Stigg emulator listening on ${emulator.url} (X-API-KEY: ${emulator.apiKey})\n${describeCatalog(options, catalog)}${webhooks}` +
      `Paste into your app's environment:\n  STIGG_API_URL=${emulator.url}\n  STIGG_SERVER_API_KEY=${emulator.apiKey}\n` +
      adminCommands(origin, emulator.apiKey, catalog),
  );
  return new Promise<number>((resolve) => {
    function shutdown(signal: NodeJS.Signals): void {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      io.out(`Stigg emulator stopping (${signal})\n${usageSummary(emulator)}`);
      emulator.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    }
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`Stigg emulator failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
