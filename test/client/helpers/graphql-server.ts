/**
 * A minimal Stigg-like GraphQL server on loopback: executes src/client/schema.graphql with graphql-js,
 * records every request and response, and serves injected faults (status, headers, raw bodies,
 * delays, dropped connections) from a queue. Wire conventions follow the emulator's contract.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { GraphQLError, buildSchema, execute, parse, validate } from 'graphql';
import type { DocumentNode } from 'graphql';
import * as fixtures from './fixtures';

export const schema = buildSchema(fs.readFileSync(path.resolve(__dirname, '../../../src/client/schema.graphql'), 'utf8'));

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: { query?: string; variables?: Record<string, unknown>; operationName?: string } | undefined;
  /** Root field name → coerced arguments the resolver received. */
  resolved: Record<string, Record<string, unknown>>;
}

export interface Fault {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Wait this long before answering (or before dropping). */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  drop?: boolean;
}

export type Resolver = (args: Record<string, any>) => unknown;

export interface FakeStigg {
  url: string;
  apiKey: string;
  requests: RecordedRequest[];
  /** What the server answered, in order (parsed JSON when it was JSON). */
  responses: Array<{ status: number; body: any }>;
  /** Override a root field's resolver. */
  resolvers: Record<string, Resolver>;
  /** Queue faults: each one answers one request instead of executing it. */
  fault(...faults: Fault[]): void;
  /** Forget recorded requests and responses, and drop faults not served yet. */
  reset(): void;
  close(): Promise<void>;
}

export function domainError(code: string, message: string, identifier: string, path: string): GraphQLError {
  return new GraphQLError(message, {
    path: [path],
    extensions: { code, isValidationError: true, identifier, traceId: randomUUID() },
  });
}

function defaultResolvers(): Record<string, Resolver> {
  return {
    getCustomerByRefId: ({ input }) => {
      if (input.customerId === 'missing')
        throw domainError('CustomerNotFound', `Customer not found: ${input.customerId}`, input.customerId, 'getCustomerByRefId');
      return { ...fixtures.customer, customerId: input.customerId, refId: input.customerId };
    },
    getActiveSubscriptions: ({ input }) => [
      { ...fixtures.subscription, resource: input.resourceId ? { resourceId: input.resourceId } : null },
    ],
    getSubscription: ({ input }) => ({
      ...fixtures.subscription,
      refId: input.subscriptionId,
      subscriptionId: input.subscriptionId,
    }),
    entitlement: ({ query }) => fixtures.entitlement(query.customerId, query.featureId, query.options?.requestedUsage ?? null),
    cachedEntitlements: ({ query }) => [
      fixtures.entitlement(query.customerId, 'feature-01-templates', null),
      fixtures.entitlement(query.customerId, 'feature-02-campaigns', null),
    ],
    entitlementsState: ({ query }) => ({
      accessDeniedReason: null,
      entitlements: [
        fixtures.entitlement(query.customerId, 'feature-01-templates', null),
        fixtures.entitlement(query.customerId, 'feature-02-campaigns', null),
      ],
    }),
    coupons: () => ({
      edges: [{ cursor: 'c1', node: fixtures.coupon }],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: 'c1', endCursor: 'c1' },
      totalCount: 1,
    }),
    provisionCustomer: ({ input }) => ({
      customer: {
        ...fixtures.customer,
        customerId: input.customerId ?? input.refId,
        refId: input.customerId ?? input.refId,
        name: input.name ?? null,
        email: input.email ?? null,
        promotionalEntitlements: [],
      },
      subscriptionDecisionStrategy: 'REQUESTED_PLAN',
      subscription: input.subscriptionParams
        ? { ...fixtures.subscription, plan: { ...fixtures.subscription.plan, refId: input.subscriptionParams.planId } }
        : null,
      entitlements: input.subscriptionParams ? [fixtures.entitlement(input.customerId ?? input.refId, 'feature-01-templates', null)] : [],
    }),
    updateOneCustomer: ({ input }) => ({
      ...fixtures.customer,
      customerId: input.customerId,
      refId: input.customerId,
      email: input.email ?? fixtures.customer.email,
    }),
    archiveCustomer: ({ input }) => ({
      ...fixtures.customer,
      customerId: input.customerId,
      refId: input.customerId,
      name: null,
      email: null,
    }),
    unarchiveCustomer: ({ input }) => ({ ...fixtures.customer, customerId: input.customerId, refId: input.customerId }),
    provisionSubscriptionV2: ({ input }) => ({
      id: randomUUID(),
      status: 'SUCCESS',
      checkoutUrl: null,
      checkoutBillingId: null,
      subscription: { ...fixtures.subscription, plan: { ...fixtures.subscription.plan, refId: input.planId } },
      entitlements: [fixtures.entitlement(input.customerId, 'feature-01-templates', null)],
    }),
    updateOneSubscription: ({ input }) => ({
      ...fixtures.subscription,
      refId: input.subscriptionId,
      subscriptionId: input.subscriptionId,
    }),
    cancelSubscription: ({ input }) => ({
      ...fixtures.subscription,
      refId: input.subscriptionRefId,
      status: 'CANCELED',
      cancellationDate: '2024-03-05T00:00:00.000Z',
    }),
    migrateSubscriptionToLatest: ({ input }) => ({
      ...fixtures.subscription,
      refId: input.subscriptionId,
      subscriptionId: input.subscriptionId,
    }),
    estimateSubscription: () => ({ ...fixtures.preview, proration: null }),
    estimateSubscriptionUpdate: () => fixtures.preview,
    reportUsage: ({ input }) => fixtures.usageMeasurement(input, 0),
    reportUsageBulk: ({ input }) => input.usages.map(fixtures.usageMeasurement),
    reportEvent: () => null,
    reportEntitlementCheckRequested: () => true,
    grantPromotionalEntitlements: ({ input }) =>
      input.promotionalEntitlements.map((grant: { featureId: string; period: string }) => ({
        ...fixtures.promotionalEntitlement,
        featureId: grant.featureId,
        period: grant.period,
      })),
    revokePromotionalEntitlement: ({ input }) => ({
      ...fixtures.promotionalEntitlement,
      featureId: input.featureId,
      status: 'Expired',
    }),
    creditBalanceSummary: ({ input }) => ({
      customerId: input.customerId,
      resourceId: null,
      balances: [fixtures.creditBalance(input.customerId)],
    }),
    creditGrants: ({ input }) => ({
      edges: [{ cursor: 'g1', node: fixtures.creditGrant(input.customerId) }],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: 'g1', endCursor: 'g1' },
      totalCount: 1,
    }),
    creditsLedger: ({ input }) => ({ events: [fixtures.creditLedgerEvent(input.customerId)] }),
    createCreditGrant: ({ input }) => ({ ...fixtures.creditGrant(input.customerId), amount: input.amount, displayName: input.displayName }),
    voidCreditGrant: ({ input }) => ({ ...fixtures.creditGrant('customer-demo-01'), grantId: input.id, status: 'VOIDED' }),
    consumeCredits: ({ input }) => fixtures.creditConsumption(input),
    consumeCreditsAsync: ({ input }) => `accepted-${input.consumptions.length}`,
  };
}

export async function startFakeStigg(options: { apiKey?: string } = {}): Promise<FakeStigg> {
  const apiKey = options.apiKey ?? 'test-server-key';
  const requests: RecordedRequest[] = [];
  const responses: FakeStigg['responses'] = [];
  const faults: Fault[] = [];
  const resolvers = defaultResolvers();
  const timers = new Set<NodeJS.Timeout>();

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    responses.push({ status, body: typeof body === 'string' ? body : JSON.parse(text) });
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json', ...headers });
    res.end(text);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    let body: RecordedRequest['body'];
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body,
      resolved: {},
    };
    requests.push(record);
    const fault = faults.shift();
    if (fault) {
      const timer = setTimeout(function answerWithFault() {
        timers.delete(timer);
        if (fault.drop) req.socket.destroy();
        else send(res, fault.status ?? 200, fault.body ?? '', fault.headers);
      }, fault.delayMs ?? 0);
      timers.add(timer);
      return;
    }
    if (req.headers['x-api-key'] !== apiKey) {
      send(res, 401, { data: null, errors: [{ message: 'Unauthorized', extensions: { code: 'UNAUTHENTICATED' } }] });
      return;
    }
    let document: DocumentNode;
    try {
      document = parse(body?.query ?? '');
    } catch (error) {
      send(res, 400, { errors: [{ message: (error as Error).message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] });
      return;
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) {
      send(res, 400, {
        errors: invalid.map((e) => ({ ...e.toJSON(), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })),
      });
      return;
    }
    const rootValue = Object.fromEntries(
      Object.entries(resolvers).map(([field, resolve]) => [
        field,
        (args: Record<string, unknown>) => {
          record.resolved[field] = args;
          return resolve(args);
        },
      ]),
    );
    const result = execute({
      schema,
      document,
      rootValue,
      variableValues: body?.variables ?? {},
      operationName: body?.operationName ?? null,
    });
    if (result instanceof Promise) throw new Error('resolvers must be synchronous');
    if (!('data' in result) || result.data === undefined) {
      send(res, 400, {
        errors: (result.errors ?? []).map((e) => ({ ...e.toJSON(), extensions: { code: 'BAD_USER_INPUT' } })),
      });
      return;
    }
    send(res, 200, { data: result.data, ...(result.errors ? { errors: result.errors.map((e) => e.toJSON()) } : {}) });
  }

  const server = http.createServer(function onRequest(req, res) {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    apiKey,
    requests,
    responses,
    resolvers,
    fault: (...more) => faults.push(...more),
    reset() {
      requests.length = 0;
      responses.length = 0;
      faults.length = 0;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback URL on which nothing listens (a port that was just free). */
export async function refusedUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/graphql`;
}
