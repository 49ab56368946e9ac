'use strict';
// Core benchmarks over the built package (run `npm run build` first; `node --expose-gc bench/core.js`).
// Prints one JSON object on stdout:
//   perCall    CPU ns per warm call of check(), acquire()+commit() (boolean and metered), next to a plain
//              Map lookup + comparison measured in the same run, interleaved over rounds (median); and
//              check() with reportChecks 'denied' (a grant: not reported) and 'all' (every call queued,
//              past 2,000 waiting dropped and counted), the sends included.
//   coldStorm  1,000 concurrent acquires for one cold customer against the emulator: upstream calls.
//   usage      10,000 granted+committed acquires: the emulator's applied total and bulk calls.
//   stream     1,500 commits over 500 customers at a steady pace (7 every 10 ms): bulk calls (one per
//              100 reports when the timer does not split batches still forming) and the applied total.
//   memory     1,000,000 distinct customers checked with maxEntries 10,000: heap growth (stops after
//              20 s on a starved machine and says how far it got).
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'cjs');
const { createEntitlements, StiggClient } = require(path.join(dist, 'index.js'));
const { startEmulator, defaultCatalog } = require(path.join(dist, 'emulator', 'index.js'));

const TEMPLATES = 'feature-01-templates';
const ANALYTICS = 'feature-04-analytics';
const gc = typeof global.gc === 'function' ? global.gc : () => undefined;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round1 = (n) => Math.round(n * 10) / 10;

/** An in-process upstream answering instantly: measures the core alone. */
function instantUpstream() {
  const calls = { getEntitlement: 0, reportUsageBulk: 0, reportEntitlementCheckRequested: 0 };
  return {
    calls,
    async getEntitlement(query) {
      calls.getEntitlement += 1;
      const metered = query.featureId === TEMPLATES;
      return {
        isGranted: true,
        accessDeniedReason: null,
        hasUnlimitedUsage: false,
        usageLimit: metered ? 1e15 : null,
        currentUsage: metered ? 0 : null,
        feature: { refId: query.featureId, featureType: metered ? 'NUMBER' : 'BOOLEAN', meterType: metered ? 'Fluctuating' : 'None' },
      };
    },
    async reportEntitlementCheckRequested() {
      calls.reportEntitlementCheckRequested += 1;
      return true;
    },
    async reportUsageBulk(input) {
      calls.reportUsageBulk += 1;
      return input.usages.map((u, i) => ({
        id: String(i),
        customerId: u.customerId,
        featureId: u.featureId,
        resourceId: null,
        currentUsage: null,
      }));
    },
  };
}

async function perCall() {
  const CHUNK = 1000;
  const CHUNKS = 100;
  const ROUNDS = 7;
  const entitlements = createEntitlements({ client: instantUpstream() });
  const checksDenied = createEntitlements({ client: instantUpstream(), reportChecks: 'denied' });
  const checksAll = createEntitlements({ client: instantUpstream(), reportChecks: 'all' });
  const booleanInput = { customerId: 'bench', featureId: ANALYTICS };
  const meteredInput = { customerId: 'bench', featureId: TEMPLATES, requestedUsage: 1 };
  await entitlements.check(booleanInput);
  await entitlements.check(meteredInput);
  await checksDenied.check(booleanInput);
  await checksAll.check(booleanInput);
  const floorMap = new Map([['bench', { usageLimit: 1e15, currentUsage: 0 }]]);
  let sink = 0;
  const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

  // Each variant runs in chunks with a turn of the event loop in between, as requests would: the
  // metered variant's reports are flushed (batches of 100) in those turns, and that work is counted.
  const variants = {
    mapFloor() {
      for (let i = 0; i < CHUNK; i += 1) {
        const entry = floorMap.get(booleanInput.customerId);
        if (entry !== undefined && entry.currentUsage + 1 <= entry.usageLimit) sink += 1;
      }
    },
    check() {
      for (let i = 0; i < CHUNK; i += 1) if (entitlements.check(booleanInput).granted) sink += 1;
    },
    checkReportChecksDenied() {
      for (let i = 0; i < CHUNK; i += 1) if (checksDenied.check(booleanInput).granted) sink += 1;
    },
    checkReportChecksAll() {
      for (let i = 0; i < CHUNK; i += 1) if (checksAll.check(booleanInput).granted) sink += 1;
    },
    acquireCommitBoolean() {
      for (let i = 0; i < CHUNK; i += 1) {
        const lease = entitlements.acquire(booleanInput);
        if (lease.decision.granted) sink += 1;
        lease.commit();
      }
    },
    acquireCommitMetered() {
      for (let i = 0; i < CHUNK; i += 1) {
        const lease = entitlements.acquire(meteredInput);
        if (lease.decision.granted) sink += 1;
        lease.commit();
      }
    },
  };
  const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, run] of Object.entries(variants)) {
      const started = process.cpuUsage();
      for (let chunk = 0; chunk < CHUNKS; chunk += 1) {
        run();
        await yieldToLoop();
      }
      await entitlements.flush();
      const used = process.cpuUsage(started);
      samples[name].push(((used.user + used.system) * 1000) / (CHUNK * CHUNKS));
    }
  }
  await Promise.all([entitlements.close(), checksDenied.close(), checksAll.close()]);
  // Round 0 is JIT warm-up.
  const ns = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, round1(median(values.slice(1)))]));
  const ratio = (name) => round1(ns[name] / ns.mapFloor);
  return {
    callsPerRound: CHUNK * CHUNKS,
    rounds: ROUNDS - 1,
    note: 'CPU ns per call (process.cpuUsage, so a busy machine does not inflate it), including one event-loop turn per 1000 calls and the usage flushes the calls cause',
    ns,
    ratioToMapFloor: {
      check: ratio('check'),
      checkReportChecksDenied: ratio('checkReportChecksDenied'),
      checkReportChecksAll: ratio('checkReportChecksAll'),
      acquireCommitBoolean: ratio('acquireCommitBoolean'),
      acquireCommitMetered: ratio('acquireCommitMetered'),
    },
    sink: sink > 0,
  };
}

function benchCatalog(customers) {
  return {
    ...defaultCatalog,
    plans: [
      ...defaultCatalog.plans,
      {
        id: 'plan-bench',
        productId: 'product-revvenu',
        displayName: 'Bench',
        pricingType: 'FREE',
        entitlements: [{ featureId: TEMPLATES, usageLimit: 1e9 }],
      },
    ],
    customers: customers.map((id) => ({ id, subscriptions: [{ planId: 'plan-bench' }] })),
  };
}

async function coldStorm() {
  const emulator = await startEmulator({ port: 0, catalog: benchCatalog(['storm']), latencyMs: 5 });
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url });
  const entitlements = createEntitlements({ client });
  try {
    const started = performance.now();
    const leases = await Promise.all(
      Array.from({ length: 1000 }, () => entitlements.acquire({ customerId: 'storm', featureId: TEMPLATES, requestedUsage: 1 })),
    );
    const ms = performance.now() - started;
    leases.forEach((lease) => lease.release());
    return {
      concurrent: 1000,
      granted: leases.filter((lease) => lease.decision.granted).length,
      upstreamEntitlementCalls: (emulator.stats().operations.entitlement ?? 0) + (emulator.stats().operations.entitlementsState ?? 0),
      ms: round1(ms),
    };
  } finally {
    await entitlements.close();
    await emulator.stop();
  }
}

async function usage() {
  const emulator = await startEmulator({ port: 0, catalog: benchCatalog(['usage']) });
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url });
  const entitlements = createEntitlements({ client });
  let dropped = 0;
  entitlements.on('usage:dropped', () => (dropped += 1));
  try {
    const started = performance.now();
    let granted = 0;
    for (let wave = 0; wave < 10; wave += 1) {
      const leases = await Promise.all(
        Array.from({ length: 1000 }, () => entitlements.acquire({ customerId: 'usage', featureId: TEMPLATES, requestedUsage: 1 })),
      );
      for (const lease of leases) {
        if (!lease.decision.granted) continue;
        granted += 1;
        lease.commit();
      }
    }
    await entitlements.close();
    const stats = emulator.stats();
    return {
      granted,
      appliedByEmulator: stats.usage[`usage||${TEMPLATES}`] ?? 0,
      reportUsageBulkCalls: stats.operations.reportUsageBulk ?? 0,
      dropped,
      ms: round1(performance.now() - started),
    };
  } finally {
    await emulator.stop();
  }
}

async function stream() {
  const CUSTOMERS = Array.from({ length: 500 }, (_, i) => `stream-${i}`);
  const emulator = await startEmulator({ port: 0, catalog: benchCatalog(CUSTOMERS) });
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url });
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 1_000 } });
  try {
    for (const customerId of CUSTOMERS) await entitlements.check({ customerId, featureId: TEMPLATES });
    const started = performance.now();
    let committed = 0;
    while (committed < 1_500) {
      for (let i = 0; i < 7 && committed < 1_500; i += 1, committed += 1) {
        const lease = await entitlements.acquire({
          customerId: CUSTOMERS[committed % CUSTOMERS.length],
          featureId: TEMPLATES,
          requestedUsage: 1,
        });
        if (lease.decision.granted) lease.commit();
        else lease.release();
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await entitlements.close();
    const stats = emulator.stats();
    return {
      customers: CUSTOMERS.length,
      committed,
      appliedByEmulator: CUSTOMERS.reduce((sum, id) => sum + (stats.usage[`${id}||${TEMPLATES}`] ?? 0), 0),
      reportUsageBulkCalls: stats.operations.reportUsageBulk ?? 0,
      ms: round1(performance.now() - started),
    };
  } finally {
    await emulator.stop();
  }
}

async function memory() {
  const CUSTOMERS = 1_000_000;
  const BUDGET_MS = 20_000;
  const CHUNK = 1_000;
  const MAX_ENTRIES = 10_000;
  const upstream = instantUpstream();
  const entitlements = createEntitlements({ client: upstream, cache: { maxEntries: MAX_ENTRIES } });
  gc();
  const baseline = process.memoryUsage().heapUsed;
  const checkpoints = {};
  const started = performance.now();
  let checked = 0;
  for (let start = 0; start < CUSTOMERS && performance.now() - started < BUDGET_MS; start += CHUNK) {
    const checks = [];
    for (let i = start; i < start + CHUNK; i += 1) checks.push(entitlements.check({ customerId: `customer-${i}`, featureId: ANALYTICS }));
    await Promise.all(checks);
    checked = start + CHUNK;
    if (checked === 100_000 || checked % 250_000 === 0) {
      gc();
      checkpoints[checked] = round1((process.memoryUsage().heapUsed - baseline) / 1024 / 1024);
    }
  }
  gc();
  checkpoints[checked] = round1((process.memoryUsage().heapUsed - baseline) / 1024 / 1024);
  const ms = performance.now() - started;
  await entitlements.close();
  return {
    customers: checked,
    complete: checked === CUSTOMERS,
    maxEntries: MAX_ENTRIES,
    upstreamCalls: upstream.calls.getEntitlement,
    heapGrowthMBAfterCustomers: checkpoints,
    gcExposed: typeof global.gc === 'function',
    ms: round1(ms),
  };
}

async function main() {
  const result = {};
  result.perCall = await perCall();
  result.coldStorm = await coldStorm();
  result.usage = await usage();
  result.stream = await stream();
  result.memory = await memory();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
