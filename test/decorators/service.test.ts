import 'reflect-metadata';
import { EntitlementDeniedError, EntitlementUnavailableError } from '../../src/core/errors';
import { InvalidUsageError, MissingCustomerError, ReportUsage, RequireFeature, withCustomer } from '../../src/decorators';
import { ANALYTICS, CAMPAIGNS, CUSTOM_DOMAIN, TEMPLATES, startRig } from './rig';
import { loadStandard } from './tc39';
import { MAX_ID_LENGTH } from '../../src/core/input';
import { forSuite } from '../support/suite';

const rig = forSuite(() => startRig());
afterEach(async () => {
  await rig.next();
});

function as<T>(customerId: string, fn: () => T): T {
  return withCustomer({ entitlements: rig.entitlements, customerId }, fn);
}

class CampaignService {
  runs: string[] = [];

  @RequireFeature(CAMPAIGNS, (count: number) => count)
  async launch(count: number): Promise<number> {
    this.runs.push(`launch ${count}`);
    await Promise.resolve();
    return count;
  }

  @RequireFeature(CAMPAIGNS, (count: number) => count)
  launchSync(count: number): Promise<number> {
    this.runs.push(`launchSync ${count}`);
    if (count > 2) throw new Error('too many at once');
    return Promise.resolve(count);
  }

  @RequireFeature(CAMPAIGNS, (count: number) => count)
  async launchAndFail(count: number): Promise<never> {
    this.runs.push(`launchAndFail ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw new Error('provider down');
  }

  @RequireFeature(ANALYTICS)
  async analytics(): Promise<string> {
    this.runs.push('analytics');
    return 'report';
  }

  @RequireFeature(CAMPAIGNS, async (input: { count: unknown }) => input.count as number)
  async launchFrom(_input: { count: unknown }): Promise<void> {
    this.runs.push('launchFrom');
  }
}

describe('@RequireFeature against the emulator', () => {
  test('grant: the method runs with `this`, resolves its value, and the usage is reported once', async () => {
    const service = new CampaignService();
    const pending = as('c-basic', () => service.launch(3));
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toBe(3);
    expect(service.runs).toEqual(['launch 3']);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(3);
    expect(rig.emulator.stats().operations.reportUsageBulk).toBe(1);
  });

  test('deny: EntitlementDeniedError with the figures, the body never runs, nothing is reported', async () => {
    const service = new CampaignService();
    const error = (await as('c-basic', () => service.launch(5)).catch((e: unknown) => e)) as EntitlementDeniedError;
    expect(error).toBeInstanceOf(EntitlementDeniedError);
    expect(error).toMatchObject({
      status: 402,
      featureId: CAMPAIGNS,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      requestedUsage: 5,
      usageLimit: 4,
      currentUsage: 0,
    });
    const boolean = (await as('c-basic', () => service.analytics()).catch((e: unknown) => e)) as EntitlementDeniedError;
    expect(boolean).toBeInstanceOf(EntitlementDeniedError);
    expect(boolean).toMatchObject({ status: 402, featureId: ANALYTICS, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
    const unknown = (await as('c-nobody', () => service.analytics()).catch((e: unknown) => e)) as EntitlementDeniedError;
    expect(unknown).toMatchObject({ status: 403, accessDeniedReason: 'CustomerNotFound' });

    expect(service.runs).toEqual([]);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(0);
  });

  test('throw or reject: the original error comes back, nothing is reported and the units are free again', async () => {
    const service = new CampaignService();
    const failure = await as('c-basic', () => service.launchAndFail(4)).catch((e: unknown) => e);
    expect(failure).toEqual(new Error('provider down'));
    const thrown = await as('c-basic', () => service.launchSync(4)).catch((e: unknown) => e);
    expect(thrown).toEqual(new Error('too many at once'));

    // All 4 units of the month are still available: the two failures released their reservations.
    await expect(as('c-basic', () => service.launch(4))).resolves.toBe(4);
    await expect(as('c-basic', () => service.launch(1))).rejects.toBeInstanceOf(EntitlementDeniedError);
    expect(service.runs).toEqual(['launchAndFail 4', 'launchSync 4', 'launch 4']);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(4);
  });

  test('a usage computed from the arguments must be a finite number >= 0', async () => {
    const service = new CampaignService();
    for (const count of [-1, Number.NaN, '2']) {
      const error = await as('c-basic', () => service.launchFrom({ count })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidUsageError);
      expect(error).toMatchObject({ status: 400, featureId: CAMPAIGNS });
    }
    expect(service.runs).toEqual([]);
    expect((rig.emulator.stats().operations.entitlement ?? 0) + (rig.emulator.stats().operations.entitlementsState ?? 0)).toBe(0);
  });

  test('no decision possible (Stigg down, nothing cached): EntitlementUnavailableError, the body never runs', async () => {
    rig.emulator.setFaults({ failureRate: 1 });
    const service = new CampaignService();
    const error = await as('c-basic', () => service.launch(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EntitlementUnavailableError);
    expect(error).toMatchObject({ status: 503, featureId: CAMPAIGNS });
    expect(service.runs).toEqual([]);
  });

  test('20 parallel calls against 5 remaining units grant exactly 5, and the emulator records exactly 5', async () => {
    class TemplateService {
      created = 0;
      @RequireFeature(TEMPLATES, 1)
      async create(): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 5));
        this.created += 1;
      }
    }
    const service = new TemplateService();
    const results = await as('c-five-left', () => Promise.allSettled(Array.from({ length: 20 }, () => service.create())));
    const granted = results.filter((r) => r.status === 'fulfilled').length;
    const denied = results.filter((r) => r.status === 'rejected' && r.reason instanceof EntitlementDeniedError);
    expect(granted).toBe(5);
    expect(denied).toHaveLength(15);
    expect(service.created).toBe(5);
    expect(await rig.reported('c-five-left', TEMPLATES)).toBe(5);
    expect(rig.emulator.stats().operations.entitlementsState).toBe(1);
    const entitlement = await rig.client.getEntitlement({ customerId: 'c-five-left', featureId: TEMPLATES });
    expect(entitlement.currentUsage).toBe(10);
  });
});

describe('class-level requirements', () => {
  @RequireFeature(TEMPLATES, 1)
  class TemplateService {
    runs: string[] = [];

    async create(name: string): Promise<string> {
      this.runs.push(`create ${name}`);
      return name;
    }

    @RequireFeature(TEMPLATES, 2)
    async createPair(name: string): Promise<string> {
      this.runs.push(`createPair ${name}`);
      return name;
    }

    @RequireFeature(CUSTOM_DOMAIN)
    async publish(domain: string): Promise<string> {
      this.runs.push(`publish ${domain}`);
      return domain;
    }

    @RequireFeature(ANALYTICS)
    async stats(): Promise<string> {
      this.runs.push('stats');
      return 'stats';
    }
  }

  test('apply to every method; a method requirement for the same feature replaces it, others add to it', async () => {
    const service = new TemplateService();
    await expect(as('c-essentials', () => service.create('a'))).resolves.toBe('a');
    await expect(as('c-essentials', () => service.createPair('b'))).resolves.toBe('b');
    await expect(as('c-essentials', () => service.publish('example.com'))).resolves.toBe('example.com');
    const denied = await as('c-essentials', () => service.stats()).catch((e: unknown) => e);
    expect(denied).toMatchObject({ featureId: ANALYTICS, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });

    expect(service.runs).toEqual(['create a', 'createPair b', 'publish example.com']);
    // create 1 + createPair 2 (not 1 + 2) + publish 1 (class requirement kept); stats' reservation released.
    expect(await rig.reported('c-essentials', TEMPLATES)).toBe(4);
  });
});

describe('stacking', () => {
  test('standard (TC39) decorators enforce the same way: class requirement, method override, report', async () => {
    const { TemplateService } = loadStandard(`
      import { RequireFeature, ReportUsage } from 'stigg-gate/decorators';
      @RequireFeature('feature-03-custom-domain')
      export class TemplateService {
        runs = 0;
        @RequireFeature('feature-01-templates', (count) => count)
        @ReportUsage('feature-02-campaigns', (result) => result.length)
        async create(count) { this.runs += 1; return Array.from({ length: count }, (_, i) => i); }
        async stats() { this.runs += 1; return 'stats'; }
      }
    `) as { TemplateService: new () => { runs: number; create(count: number): Promise<number[]>; stats(): Promise<string> } };
    const service = new TemplateService();
    await expect(as('c-essentials', () => service.create(2))).resolves.toEqual([0, 1]);
    await expect(as('c-essentials', () => service.stats())).resolves.toBe('stats');
    await expect(as('c-basic', () => service.stats())).rejects.toMatchObject({ featureId: CUSTOM_DOMAIN });
    await expect(as('c-essentials', () => service.create(9))).rejects.toMatchObject({
      featureId: TEMPLATES,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
    });
    expect(service.runs).toBe(2);
    expect(await rig.reported('c-essentials', TEMPLATES)).toBe(2);
    expect(await rig.reported('c-essentials', CAMPAIGNS)).toBe(2);
  });

  test('a foreign wrapper between two of ours that copies metadata does not make ours enforce twice', async () => {
    function Traced(): MethodDecorator {
      return function traced(_target, _key, descriptor) {
        const inner = descriptor.value as unknown as (...args: unknown[]) => unknown;
        const outer = function tracedMethod(this: unknown, ...args: unknown[]): unknown {
          return inner.apply(this, args);
        };
        for (const key of Reflect.getOwnMetadataKeys(inner)) Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, inner), outer);
        return { ...descriptor, value: outer as never };
      };
    }
    class Service {
      runs = 0;
      @RequireFeature(TEMPLATES, 1)
      @Traced()
      @RequireFeature(CAMPAIGNS, 1)
      async both(): Promise<void> {
        this.runs += 1;
      }
    }
    const service = new Service();
    await as('c-basic', () => service.both());
    await as('c-basic', () => service.both());
    expect(service.runs).toBe(2);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(2);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(2);
  });
});

describe('@ReportUsage', () => {
  class TemplateService {
    runs = 0;

    @ReportUsage(TEMPLATES, (created: string[]) => created.length)
    async import(names: string[]): Promise<string[]> {
      this.runs += 1;
      if (names.includes('bad')) throw new Error('bad template');
      return names.filter((name) => name !== '');
    }

    @ReportUsage(TEMPLATES, -1)
    @RequireFeature(CUSTOM_DOMAIN)
    async remove(_name: string): Promise<void> {
      this.runs += 1;
    }
  }

  test('reports the value computed from the result after success, without a check; nothing when it throws', async () => {
    const service = new TemplateService();
    await expect(as('c-basic', () => service.import(['a', '', 'b', 'c', 'd']))).resolves.toEqual(['a', 'b', 'c', 'd']);
    await expect(as('c-basic', () => service.import(['e', 'bad']))).rejects.toThrow('bad template');
    expect(service.runs).toBe(2);
    expect((rig.emulator.stats().operations.entitlement ?? 0) + (rig.emulator.stats().operations.entitlementsState ?? 0)).toBe(0);
    // 4 templates on a plan limited to 3: metering alone does not gate.
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(4);
  });

  test('stacks with @RequireFeature: a negative value lowers usage only when the check passed', async () => {
    const service = new TemplateService();
    await expect(as('c-basic', () => service.remove('a'))).rejects.toBeInstanceOf(EntitlementDeniedError);
    await expect(as('c-essentials', () => service.remove('a'))).resolves.toBeUndefined();
    expect(service.runs).toBe(1);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(0);
    expect(await rig.reported('c-essentials', TEMPLATES)).toBe(-1);
  });
});

describe('the customer outside a request', () => {
  test('withCustomer scopes survive awaits, nest, and end with their callback', async () => {
    const service = new CampaignService();
    await withCustomer({ entitlements: rig.entitlements, customerId: 'c-basic' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await service.launch(1);
      await withCustomer({ entitlements: rig.entitlements, customerId: 'c-basic-2' }, () => service.launch(2));
      await service.launch(1);
    });
    await expect(service.launch(1)).rejects.toBeInstanceOf(MissingCustomerError);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(2);
    expect(await rig.reported('c-basic-2', CAMPAIGNS)).toBe(2);
  });

  test('the customer and entitlements options take the customer from the arguments; they win over the scope', async () => {
    const entitlements = rig.entitlements;
    class JobConsumer {
      @RequireFeature(CAMPAIGNS, (job: { count: number }) => job.count, {
        customer: (job: { customerId?: string }) => job.customerId,
        entitlements,
      })
      async handle(job: { customerId?: string; count: number }): Promise<number> {
        return job.count;
      }
    }
    const consumer = new JobConsumer();
    await expect(consumer.handle({ customerId: 'c-basic', count: 2 })).resolves.toBe(2);
    await expect(consumer.handle({ customerId: 'c-basic', count: 3 })).rejects.toBeInstanceOf(EntitlementDeniedError);
    await expect(as('c-basic', () => consumer.handle({ customerId: 'c-basic-2', count: 3 }))).resolves.toBe(3);
    // An option that yields no customer falls back to the scope.
    await expect(as('c-basic-2', () => consumer.handle({ count: 1 }))).resolves.toBe(1);
    // The scope's resource belongs to the scope's customer: a customer from the option is checked without it.
    const inSite = withCustomer({ entitlements, customerId: 'c-sites', resourceId: 'site-1' }, () =>
      consumer.handle({ customerId: 'c-growth', count: 1 }),
    );
    await expect(inSite).resolves.toBe(1);
    expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(2);
    expect(await rig.reported('c-basic-2', CAMPAIGNS)).toBe(4);
    expect(await rig.reported('c-growth', CAMPAIGNS)).toBe(1);
  });

  test('customer, resource and usage may come from async functions of the arguments; resources are checked apart', async () => {
    const entitlements = rig.entitlements;
    interface Launch {
      account: string;
      site: string;
      count: number;
    }
    class SiteCampaigns {
      @RequireFeature(CAMPAIGNS, async (launch: Launch) => launch.count, {
        customer: async (launch: Launch) => launch.account,
        resource: (launch: Launch) => launch.site,
        entitlements,
      })
      async launch(launch: Launch): Promise<string> {
        return `${launch.site}:${launch.count}`;
      }
    }
    const service = new SiteCampaigns();
    await expect(service.launch({ account: 'c-sites', site: 'site-1', count: 4 })).resolves.toBe('site-1:4');
    await expect(service.launch({ account: 'c-sites', site: 'site-1', count: 1 })).rejects.toMatchObject({
      accessDeniedReason: 'RequestedUsageExceedingLimit',
    });
    await expect(service.launch({ account: 'c-sites', site: 'site-2', count: 1 })).rejects.toMatchObject({
      status: 403,
      accessDeniedReason: 'CustomerResourceNotFound',
    });
    expect(await rig.reported('c-sites', CAMPAIGNS, 'site-1')).toBe(4);
  });

  test('no customer anywhere is a MissingCustomerError naming the three ways to give one; the body never runs', async () => {
    const service = new CampaignService();
    const error = (await service.launch(1).catch((e: unknown) => e)) as MissingCustomerError;
    expect(error).toBeInstanceOf(MissingCustomerError);
    expect(error.status).toBe(401);
    expect(error.message).toContain('CampaignService.launch');
    expect(error.message).toContain('stigg()');
    expect(error.message).toContain('withCustomer(');
    expect(error.message).toContain('customer option');
    expect(service.runs).toEqual([]);
  });

  test('a customer option without entitlements outside any scope is a TypeError', async () => {
    class Job {
      ran = false;
      @RequireFeature(CAMPAIGNS, 1, { customer: () => 'c-basic' })
      async run(): Promise<void> {
        this.ran = true;
      }
    }
    const job = new Job();
    await expect(job.run()).rejects.toThrow(
      new TypeError(
        'No entitlements instance for feature "feature-02-campaigns" in Job.run: pass { entitlements } in the decorator\'s options, or call it inside a request handled by stigg() or inside withCustomer({ entitlements, customerId }, fn).',
      ),
    );
    expect(job.ran).toBe(false);
  });
});

describe("ids from a decorator's options (12.1)", () => {
  class Jobs {
    runs = 0;
    @RequireFeature(TEMPLATES, 1, { customer: (customerId: string) => customerId, resource: (_c: string, siteId?: string) => siteId })
    async create(_customerId: string, _siteId?: string): Promise<void> {
      this.runs += 1;
    }
  }

  test.each([
    ['a space', ' '],
    ['U+00A0', '\u00a0'],
    ['one character too long', 'c'.repeat(MAX_ID_LENGTH + 1)],
  ])('a customer id that is %s rejects with a 401 InvalidIdError before asking Stigg', async (_name, id) => {
    const jobs = new Jobs();
    const failure = await as('c-basic', () => jobs.create(id)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'InvalidIdError', status: 401, field: 'customerId', featureId: TEMPLATES, expose: true });
    expect(jobs.runs).toBe(0);
    expect(rig.emulator.stats().requests).toBe(0);
  });

  test('a blank resource id rejects with a 400 InvalidIdError, and so does a padded customer id', async () => {
    const jobs = new Jobs();
    await expect(as('c-basic', () => jobs.create('c-basic', '\u3000'))).rejects.toMatchObject({
      name: 'InvalidIdError',
      status: 400,
      field: 'resourceId',
    });
    await expect(as('c-basic', () => jobs.create(' c-basic'))).rejects.toMatchObject({
      status: 401,
      problem: 'must not start or end with whitespace',
    });
    await as('c-basic', () => jobs.create('c-basic'));
    expect(jobs.runs).toBe(1);
    expect(await rig.reported('c-basic', TEMPLATES)).toBe(1);
  });
});
