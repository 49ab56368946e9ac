// Deliberately no `import 'reflect-metadata'`: the host application did not load the polyfill.
import { ReportUsage, RequireFeature, getFeatureRequirements } from '../../src/decorators';

test('applying a decorator without reflect-metadata loaded throws a TypeError that says what to import', () => {
  expect((Reflect as unknown as { getMetadata?: unknown }).getMetadata).toBeUndefined();
  const decorate = (): unknown => {
    class Service {
      @RequireFeature('feature-01-templates', 1)
      async create(): Promise<void> {}
    }
    return Service;
  };
  expect(decorate).toThrow(TypeError);
  expect(decorate).toThrow(
    "@RequireFeature needs the reflect-metadata polyfill, which is not loaded. Install it (npm install reflect-metadata) and add import 'reflect-metadata' once",
  );
  expect(() => ReportUsage('feature-01-templates', 1)(class {})).toThrow('@ReportUsage needs the reflect-metadata polyfill');
  expect(() => getFeatureRequirements(class {}, 'create')).toThrow('getFeatureRequirements needs the reflect-metadata polyfill');
});
