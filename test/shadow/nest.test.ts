import 'reflect-metadata';
import { Body, Controller, Get, Post, type INestApplication } from '@nestjs/common';
import { StiggModule } from 'stigg-gate/nest';
import { RequireFeature } from 'stigg-gate/decorators';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { Decision, EnforcementMode, Entitlements } from '../../src/core/types';
import { startEmulator } from '../../src/emulator';
import { createApp, customerFromHeader, platforms } from '../nest/app';
import {
  ANALYTICS,
  CAMPAIGNS,
  CUSTOM_DOMAIN,
  MISSING,
  MODEL,
  SEATS,
  TEMPLATES,
  denials,
  makeTrace,
  replay,
  total,
  traceCatalog,
  wouldDeny,
  type Kind,
  type Result,
} from './trace';
import { forSuite, onFirstUse } from '../support/suite';

// The recorded trace through NestJS (guard, and the method wrapper for usage taken from the body) on
// Express and Fastify, over loopback HTTP against the emulator: the controller enforcing, then the
// same controller with `mode: 'shadow'` on its decorators. SHADOW_TRACE_SIZE as in adapters.test.ts.

const SIZE = Number(process.env['SHADOW_TRACE_SIZE'] ?? 1_500);
/** Two replays per stack; 10,000 a replay takes minutes on a busy machine. */
const TIMEOUT_MS = Math.max(300_000, SIZE * 200);

const emulator = forSuite(() => startEmulator({ port: 0, catalog: traceCatalog }));
const client = onFirstUse(() => new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }));

interface Ask {
  count?: number;
  values?: string[];
}

function controllerFor(prefix: string, mode: EnforcementMode | undefined): new (...args: never[]) => unknown {
  const o = mode === undefined ? {} : { mode };
  @Controller(prefix)
  class TraceController {
    @Post('templates')
    @RequireFeature(TEMPLATES, 1, o)
    async templates(): Promise<{ ok: true }> {
      return { ok: true };
    }

    @Post('campaigns')
    @RequireFeature(CAMPAIGNS, (body: Ask) => body.count ?? 0, o)
    async campaigns(@Body() _body: Ask): Promise<{ ok: true }> {
      return { ok: true };
    }

    @Get('custom-domain')
    @RequireFeature(CUSTOM_DOMAIN, o)
    async customDomain(): Promise<{ ok: true }> {
      return { ok: true };
    }

    @Get('analytics')
    @RequireFeature(ANALYTICS, o)
    async analytics(): Promise<{ ok: true }> {
      return { ok: true };
    }

    @Post('model')
    @RequireFeature(MODEL, { ...o, requestedValues: (body: Ask) => body.values ?? [] })
    async model(@Body() _body: Ask): Promise<{ ok: true }> {
      return { ok: true };
    }

    @Post('seats')
    @RequireFeature(SEATS, 1, o)
    async seats(): Promise<{ ok: true }> {
      return { ok: true };
    }

    @Get('missing')
    @RequireFeature(MISSING, o)
    async missing(): Promise<{ ok: true }> {
      return { ok: true };
    }
  }
  return TraceController;
}

const METHOD: Record<Kind, 'GET' | 'POST'> = {
  templates: 'POST',
  campaigns: 'POST',
  'custom-domain': 'GET',
  analytics: 'GET',
  model: 'POST',
  seats: 'POST',
  missing: 'GET',
};

const Enforcing = controllerFor('enforce', undefined);
const Shadowing = controllerFor('shadow', 'shadow');
const trace = makeTrace(SIZE, { seed: 1212 });

describe.each(platforms)('stigg-gate/nest on %s', (platform) => {
  async function run(prefix: 'enforce' | 'shadow'): Promise<{ results: Result[]; counts: ReturnType<Entitlements['shadowCounts']> }> {
    emulator.reset();
    const entitlements = createEntitlements({ client });
    const latest = new Map<string, Decision>();
    entitlements.on('decision', (decision) => latest.set(decision.customerId, decision));
    const app: INestApplication = await createApp(platform, {
      imports: [StiggModule.forRoot({ entitlements, customer: customerFromHeader })],
      controllers: [Enforcing, Shadowing],
    });
    try {
      await app.listen(0, '127.0.0.1');
      const base = await app.getUrl();
      const results = await replay(trace, async (request) => {
        const method = METHOD[request.kind];
        const res = await fetch(`${base.replace('[::1]', '127.0.0.1')}/${prefix}/${request.kind}`, {
          method,
          headers: { 'x-customer': request.customerId, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          ...(method === 'POST' ? { body: JSON.stringify({ count: request.usage, values: request.values }) } : {}),
        });
        const body = (await res.json()) as { accessDeniedReason?: string };
        if (res.status < 300) return { served: true, reason: latest.get(request.customerId)?.wouldDenyReason ?? null };
        if (res.status !== 402 && res.status !== 403) throw new Error(`${request.kind} answered ${res.status}: ${JSON.stringify(body)}`);
        return { served: false, reason: body.accessDeniedReason ?? null };
      });
      return { results, counts: entitlements.shadowCounts() };
    } finally {
      await app.close();
      await entitlements.close();
    }
  }

  test(
    `${SIZE} requests: decorators in shadow mode serve all, and would deny what they deny enforcing, per reason`,
    async () => {
      const enforced = await run('enforce');
      const shadow = await run('shadow');
      const denied = denials(enforced.results);
      expect(Object.keys(denied)).toHaveLength(6);
      expect(total(denials(shadow.results))).toBe(0);
      expect(wouldDeny(shadow.results)).toEqual(denied);
      expect(shadow.results.map((result) => result.reason)).toEqual(enforced.results.map((result) => result.reason));
      expect(shadow.counts.byReason).toEqual(denied);
      expect(shadow.counts.decisions).toBe(SIZE);
    },
    TIMEOUT_MS,
  );
});
