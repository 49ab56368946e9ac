import type { StiggClient } from 'stigg-gate';

/** The customers the emulator starts with; the demo tokens in auth.ts map to them. */
export const demoCustomers: ReadonlyArray<{
  readonly customerId: string;
  readonly name: string;
  readonly planId?: string;
  readonly archived?: boolean;
}> = [
  { customerId: 'demo-basic', name: 'Ada', planId: 'plan-revvenu-basic' },
  { customerId: 'demo-growth', name: 'Grace', planId: 'plan-revvenu-growth' },
  { customerId: 'demo-no-plan', name: 'Linus' },
  { customerId: 'demo-archived', name: 'Barbara', planId: 'plan-revvenu-basic', archived: true },
];

export async function provisionDemoCustomers(client: Pick<StiggClient, 'provisionCustomer' | 'archiveCustomer'>): Promise<void> {
  for (const customer of demoCustomers) {
    await client.provisionCustomer({
      customerId: customer.customerId,
      name: customer.name,
      ...(customer.planId === undefined ? {} : { subscriptionParams: { planId: customer.planId } }),
    });
    if (customer.archived === true) await client.archiveCustomer(customer.customerId);
  }
}

export interface StoryStep {
  readonly title: string;
  /** The status, and the accessDeniedReason for a denial. */
  readonly expect: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly token: string;
  readonly body?: Readonly<Record<string, unknown>>;
}

/** What the printed curl commands show, in order: a grant, a 402 with its reason, a 403, and an upgrade that lifts the limit. */
export const story: readonly StoryStep[] = [
  { title: 'A grant: Ada (Basic plan) creates a template', expect: '201', method: 'POST', path: '/templates', token: 'token-basic' },
  {
    title: 'A 402 with the reason: 5 campaigns exceed the 4 a month of the Basic plan',
    expect: '402 RequestedUsageExceedingLimit',
    method: 'POST',
    path: '/campaigns',
    token: 'token-basic',
    body: { count: 5 },
  },
  {
    title: 'A 402 from a decorated service method: analytics is not in the Basic plan',
    expect: '402 NoFeatureEntitlementInSubscription',
    method: 'GET',
    path: '/reports/monthly',
    token: 'token-basic',
  },
  {
    title: "A 403: Barbara's customer is archived",
    expect: '403 CustomerIsArchived',
    method: 'GET',
    path: '/analytics',
    token: 'token-archived',
  },
  {
    title: 'The upgrade: Ada moves to the Growth plan',
    expect: '200',
    method: 'POST',
    path: '/upgrade',
    token: 'token-basic',
    body: { planId: 'plan-revvenu-growth' },
  },
  {
    title: 'The limit is lifted: the same 5 campaigns now pass',
    expect: '201',
    method: 'POST',
    path: '/campaigns',
    token: 'token-basic',
    body: { count: 5 },
  },
];

export function curlCommand(baseUrl: string, step: StoryStep): string {
  const parts = [
    'curl -si',
    ...(step.method === 'GET' ? [] : [`-X ${step.method}`]),
    `${baseUrl}${step.path}`,
    `-H 'Authorization: Bearer ${step.token}'`,
  ];
  if (step.body !== undefined) parts.push(`-H 'Content-Type: application/json'`, `-d '${JSON.stringify(step.body)}'`);
  return parts.join(' ');
}

export function banner(options: {
  baseUrl: string;
  emulatorUrl: string | undefined;
  emulatorApiKey?: string | undefined;
  apiUrl: string;
}): string {
  const lines = [
    '',
    `stigg-gate example app listening on ${options.baseUrl}`,
    options.emulatorUrl === undefined
      ? `Stigg API: ${options.apiUrl}`
      : `Stigg emulator (in-process, Revvenu demo catalog): ${options.emulatorUrl}\n  its statistics: curl -s -H 'X-API-KEY: ${options.emulatorApiKey ?? ''}' ${options.emulatorUrl.replace(/\/graphql$/, '/stats')}`,
    '',
    'Demo tokens (DEMO ONLY authentication): token-basic, token-growth, token-no-plan, token-archived',
  ];
  if (options.emulatorUrl === undefined) {
    lines.push(
      `They map to the Stigg customers ${demoCustomers.map((customer) => customer.customerId).join(', ')}, which must exist in`,
      'that environment (on the Revvenu demo plans) for the story below to hold; unset STIGG_SERVER_API_KEY to run on the emulator.',
    );
  }
  lines.push('', 'Try it:');
  story.forEach(function addStep(step, index) {
    lines.push('', `# ${index + 1}. ${step.title} (expect ${step.expect})`, curlCommand(options.baseUrl, step));
  });
  lines.push('', 'Stop with Ctrl-C: pending usage is flushed to Stigg before the process exits.', '');
  return lines.join('\n');
}
