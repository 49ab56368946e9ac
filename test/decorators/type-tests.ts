/**
 * Type tests of stigg-gate/decorators, compiled by `npm run typecheck` (tsc -p . includes test/) and
 * never run: each `@ts-expect-error` line must fail to compile, every other line must compile.
 */
import { RequireFeature, ReportUsage } from 'stigg-gate/decorators';

class Templates {
  async create(name: string): Promise<{ name: string }> {
    return { name };
  }

  count(): number {
    return 1;
  }
}

const descriptor = Object.getOwnPropertyDescriptor(Templates.prototype, 'create') as TypedPropertyDescriptor<Templates['create']>;

// The legacy form returns the descriptor of the gated method (the one passed in stays ungated), typed as the method.
const gated: TypedPropertyDescriptor<Templates['create']> = RequireFeature('feature-01-templates', 1)(
  Templates.prototype,
  'create',
  descriptor,
);
const metered: TypedPropertyDescriptor<Templates['create']> = ReportUsage('feature-01-templates', 1)(Templates.prototype, 'create', gated);
Object.defineProperty(Templates.prototype, 'create', metered);

// …and not as some other method's.
// @ts-expect-error the descriptor of create() is not that of count()
const wrongMethod: TypedPropertyDescriptor<Templates['count']> = RequireFeature('feature-01-templates')(
  Templates.prototype,
  'create',
  descriptor,
);

const syncDescriptor = Object.getOwnPropertyDescriptor(Templates.prototype, 'count') as TypedPropertyDescriptor<Templates['count']>;
// @ts-expect-error a decorated method returns a promise, so only methods that already return one are accepted
RequireFeature('feature-01-templates')(Templates.prototype, 'count', syncDescriptor);

// The class form changes the prototype in place and returns nothing.
// @ts-expect-error the legacy class form returns void
const replaced: typeof Templates = RequireFeature('feature-01-templates')(Templates);

export { wrongMethod, replaced };
