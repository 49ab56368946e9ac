import 'reflect-metadata';
import { MAX_ID_LENGTH } from '../../src/core/input';
import {
  FEATURE_REQUIREMENTS_METADATA,
  MissingCustomerError,
  ReportUsage,
  RequireFeature,
  getFeatureRequirements,
  getUsageReports,
  withCustomer,
} from '../../src/decorators';
import type { Entitlements } from '../../src/core/types';
import { loadStandard } from './tc39';

const CUSTOM_KEY = 'test:audit';
function Audit(tag: string): MethodDecorator {
  return function audit(_target, _key, descriptor) {
    Reflect.defineMetadata(CUSTOM_KEY, tag, descriptor.value as object);
  };
}

class TemplateInput {
  name = '';
}

@RequireFeature('feature-04-analytics')
@RequireFeature('feature-01-templates', 1)
class TemplateService {
  @RequireFeature('feature-01-templates', (_input: TemplateInput, copies: number) => copies)
  @Audit('create')
  async create(input: TemplateInput, copies: number): Promise<string> {
    return `${input.name}x${copies}`;
  }

  @Audit('rename')
  @ReportUsage('feature-02-campaigns', (result: number) => result)
  @RequireFeature('feature-03-custom-domain')
  async rename(_id: string, _name: string, _force?: boolean): Promise<number> {
    return 1;
  }

  async list(): Promise<string[]> {
    return [];
  }

  @RequireFeature('feature-02-campaigns', 2)
  static async bulk(): Promise<void> {}

  get size(): number {
    return 0;
  }
}

describe('metadata', () => {
  const proto = TemplateService.prototype;

  test('the wrapper keeps name, arity, custom metadata and design:paramtypes of a stacked method', () => {
    expect(proto.create.name).toBe('create');
    expect(proto.create.length).toBe(2);
    expect(Reflect.getMetadata(CUSTOM_KEY, proto.create)).toBe('create');
    expect(Reflect.getMetadata('design:paramtypes', proto, 'create')).toEqual([TemplateInput, Number]);
    expect(Reflect.getMetadata('design:returntype', proto, 'create')).toBe(Promise);

    expect(proto.rename.name).toBe('rename');
    expect(proto.rename.length).toBe(3);
    expect(Reflect.getMetadata(CUSTOM_KEY, proto.rename)).toBe('rename');
    expect(Reflect.getMetadata('design:paramtypes', proto, 'rename')).toEqual([String, String, Boolean]);
  });

  test('method requirements override the class requirement for the same feature; the others combine', () => {
    const create = getFeatureRequirements(TemplateService, 'create');
    expect(create.map((r) => r.featureId)).toEqual(['feature-04-analytics', 'feature-01-templates']);
    expect(typeof create[1]?.requestedUsage).toBe('function');

    const list = getFeatureRequirements(proto, 'list');
    expect(list.map((r) => [r.featureId, r.requestedUsage])).toEqual([
      ['feature-04-analytics', undefined],
      ['feature-01-templates', 1],
    ]);
    expect(getFeatureRequirements(new TemplateService(), 'rename').map((r) => r.featureId)).toEqual([
      'feature-04-analytics',
      'feature-01-templates',
      'feature-03-custom-domain',
    ]);
    expect(getUsageReports(TemplateService, 'rename').map((r) => r.featureId)).toEqual(['feature-02-campaigns']);
    expect(getUsageReports(TemplateService, 'list')).toEqual([]);
  });

  test('static methods carry their own requirements only; unknown members have none', () => {
    expect(getFeatureRequirements(TemplateService, 'bulk').map((r) => [r.featureId, r.requestedUsage])).toEqual([
      ['feature-02-campaigns', 2],
    ]);
    expect(getFeatureRequirements(TemplateService, 'size')).toEqual([]);
    expect(getFeatureRequirements(TemplateService, 'missing')).toEqual([]);
  });

  test('recorded under namespaced keys a NestJS Reflector can read on the handler and the class', () => {
    expect(FEATURE_REQUIREMENTS_METADATA).toBe('stigg-gate:feature-requirements');
    expect(
      (Reflect.getMetadata(FEATURE_REQUIREMENTS_METADATA, proto.create) as Array<{ featureId: string }>).map((r) => r.featureId),
    ).toEqual(['feature-01-templates']);
    expect(
      (Reflect.getMetadata(FEATURE_REQUIREMENTS_METADATA, TemplateService) as Array<{ featureId: string }>).map((r) => r.featureId),
    ).toEqual(['feature-04-analytics', 'feature-01-templates']);
  });

  test('accessors are left alone by the class decorator', () => {
    expect(new TemplateService().size).toBe(0);
  });

  test('a subclass inherits gated methods but not its base class requirements on its own methods', () => {
    class Plain {
      async own(): Promise<number> {
        return 1;
      }
    }
    @RequireFeature('feature-04-analytics')
    class Child extends TemplateService {}
    expect(getFeatureRequirements(Child, 'own')).toEqual([]);
    expect(getFeatureRequirements(Child, 'list').map((r) => r.featureId)).toEqual(['feature-04-analytics', 'feature-01-templates']);
    expect(getFeatureRequirements(Plain, 'own')).toEqual([]);
  });

  test('recorded metadata is frozen and the caller options object is neither kept nor changed', () => {
    const customer = (id: string): string => id;
    const options = { customer };
    const snapshot = { ...options };
    class Service {
      @RequireFeature('feature-01-templates', 1, options)
      async make(_id: string): Promise<void> {}
    }
    const [requirement] = getFeatureRequirements(Service, 'make');
    expect(options).toEqual(snapshot);
    expect(Object.keys(options)).toEqual(['customer']);
    expect(requirement).not.toBe(options);
    expect(requirement?.customer).toBe(customer);
    expect(Object.isFrozen(requirement)).toBe(true);
    expect(Object.isFrozen(getFeatureRequirements(Service, 'make'))).toBe(true);
  });
});

describe('validation at decoration time', () => {
  test('@RequireFeature without the call is caught with a fix-it message', () => {
    expect(() => {
      class Service {
        // @ts-expect-error written without the call
        @RequireFeature
        async make(): Promise<void> {}
      }
      return Service;
    }).toThrow("write @RequireFeature('feature-id'), not @RequireFeature");
    expect(() => (RequireFeature as unknown as (c: unknown) => unknown)(class {})).toThrow(TypeError);
  });

  test.each([
    [() => RequireFeature(''), 'not a valid feature id'],
    [() => RequireFeature('f', -1), 'Please choose a number >= 0 and at most Number.MAX_SAFE_INTEGER'],
    [() => RequireFeature('f', Number.NaN), 'Please choose a number >= 0 and at most Number.MAX_SAFE_INTEGER'],
    [() => RequireFeature('f', 1e308), 'Please choose a number >= 0 and at most Number.MAX_SAFE_INTEGER'],
    [() => RequireFeature('f', 1, { customer: 'c1' as never }), 'must be a function of the method'],
    [() => RequireFeature('f', 1, { entitlements: {} as never }), 'createEntitlements()'],
    [
      () => RequireFeature('f', 1, { customerId: 'c1' } as never),
      '"customerId" is not an option of @RequireFeature(\'f\'). Did you mean "customer"?',
    ],
    [() => RequireFeature('f', 'one' as never, {}), 'requestedUsage must be a number or a function'],
    [() => ReportUsage('f', Number.POSITIVE_INFINITY), 'Please choose a number within ±Number.MAX_SAFE_INTEGER'],
    [() => ReportUsage('f', undefined as never), 'Please choose a number within ±Number.MAX_SAFE_INTEGER'],
    [() => ReportUsage('f', -1e308), 'Please choose a number within ±Number.MAX_SAFE_INTEGER'],
  ])('%#: bad arguments throw a TypeError', (make, message) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
  });

  test('the method form only accepts methods that return a promise, as the decorated method will', async () => {
    class Service {
      // @ts-expect-error a sync method would be typed as returning a number but return a promise
      @RequireFeature('feature-01-templates', 1)
      count(): number {
        return 1;
      }
    }
    const pending = new Service().count();
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toThrow(MissingCustomerError);
  });

  test('the same feature twice on one method is refused', () => {
    expect(() => {
      class Service {
        @RequireFeature('feature-01-templates', 1)
        @RequireFeature('feature-01-templates', 2)
        async make(): Promise<void> {}
      }
      return Service;
    }).toThrow("@RequireFeature('feature-01-templates') appears twice on method Service.make");
  });

  test('accessors and properties are refused', () => {
    const decorate = RequireFeature('f') as unknown as (t: object, k: string, d?: PropertyDescriptor) => unknown;
    expect(() => decorate({}, 'value', { get: () => 1, configurable: true })).toThrow('value is an accessor');
    expect(() => decorate({}, 'field')).toThrow('field is a property');
  });

  test('withCustomer checks its scope', () => {
    const fake = { acquire() {}, report() {} } as unknown as Entitlements;
    expect(() => withCustomer({ entitlements: fake, customerId: 42 as never }, () => 1)).toThrow('is not a valid customerId');
    expect(() => withCustomer({ entitlements: fake, customerId: '' }, () => 1)).toThrow(
      'withCustomer: the customerId must be a non-empty string.',
    );
    for (const blank of [' ', '\u00a0', '\u3000\u2007']) {
      expect(() => withCustomer({ entitlements: fake, customerId: blank }, () => 1)).toThrow(
        'withCustomer: the customerId must not be blank.',
      );
    }
    expect(() => withCustomer({ entitlements: fake, customerId: 'c', resourceId: '\u00a0' }, () => 1)).toThrow(
      'withCustomer: the resourceId must not be blank.',
    );
    expect(() => withCustomer({ entitlements: fake, customerId: 'c'.repeat(MAX_ID_LENGTH + 1) }, () => 1)).toThrow(
      `must be at most ${MAX_ID_LENGTH} characters`,
    );
    expect(() => withCustomer({ entitlements: {} as Entitlements, customerId: 'c' }, () => 1)).toThrow('createEntitlements()');
    expect(() => withCustomer({ entitlements: fake, customerId: 'c' }, undefined as never)).toThrow('fn must be a function');
    expect(withCustomer({ entitlements: fake, customerId: 'c' }, () => 42)).toBe(42);
  });
});

describe('standard (TC39) decorators', () => {
  test('method and class forms record the same metadata and keep name and arity', () => {
    const { Service } = loadStandard(`
      import { RequireFeature, ReportUsage } from 'stigg-gate/decorators';
      @RequireFeature('feature-04-analytics')
      export class Service {
        @RequireFeature('feature-01-templates', (n) => n)
        @ReportUsage('feature-02-campaigns', 1)
        async create(n, label) { return n; }
        async plain() { return 'plain'; }
      }
    `) as { Service: new () => { create(n: number, label: string): Promise<number>; plain(): Promise<string> } };
    expect(Service.prototype.create.name).toBe('create');
    expect(Service.prototype.create.length).toBe(2);
    expect(getFeatureRequirements(Service, 'create').map((r) => r.featureId)).toEqual(['feature-04-analytics', 'feature-01-templates']);
    expect(getFeatureRequirements(Service, 'plain').map((r) => r.featureId)).toEqual(['feature-04-analytics']);
    expect(getUsageReports(Service, 'create').map((r) => [r.featureId, r.value])).toEqual([['feature-02-campaigns', 1]]);
  });

  test('a standard decorator on a field is refused with a clear error', () => {
    expect(() =>
      loadStandard(`
        import { RequireFeature } from 'stigg-gate/decorators';
        export class Service { @RequireFeature('f') count = 1; }
      `),
    ).toThrow('@RequireFeature decorates methods and classes; it cannot decorate field count');
  });
});
