import 'reflect-metadata';
import { InvalidUsageError, RequireFeature, withCustomer } from '../../src/decorators';
import { CAMPAIGNS, startRig } from './rig';
import { forSuite } from '../support/suite';

// Issue 23: @RequireFeature(featureId, reserve, { settle: (result, ...args) => units }) reports what
// the call used. c-basic has 4 campaigns a month.

const rig = forSuite(() => startRig());
afterEach(async () => {
  await rig.next();
});

function as<T>(fn: () => T): T {
  return withCustomer({ entitlements: rig.entitlements, customerId: 'c-basic' }, fn);
}

class Completions {
  /** Reserves `max` and reports what the "model" produced. */
  @RequireFeature(CAMPAIGNS, (max: number) => max, { settle: (result: { used: number }) => result.used })
  async complete(_max: number, used: number): Promise<{ used: number }> {
    return { used };
  }

  @RequireFeature(CAMPAIGNS, 2, { settle: () => Number.NaN })
  async broken(): Promise<string> {
    return 'done';
  }

  @RequireFeature(CAMPAIGNS, 2, { settle: () => 1 })
  async fails(): Promise<never> {
    throw new Error('model down');
  }
}

test('fewer units than reserved: the actual count is reported, the rest is free again', async () => {
  const service = new Completions();
  await as(() => service.complete(4, 1));
  await expect(as(() => service.complete(3, 3))).resolves.toEqual({ used: 3 }); // 1 + 3 = 4
  expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(4);
});

test('more units than reserved: reported (the work happened), and later calls are denied', async () => {
  const service = new Completions();
  await as(() => service.complete(1, 5));
  expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(5);
  await expect(as(() => service.complete(1, 1))).rejects.toMatchObject({ name: 'EntitlementDeniedError' });
});

test('a settle option answering no valid count reports the reservation and rejects with InvalidUsageError (500)', async () => {
  const service = new Completions();
  const failure = await as(() => service.broken()).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(InvalidUsageError);
  expect(failure).toMatchObject({ status: 500 });
  expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(2);
});

test('a method that throws settles nothing', async () => {
  const service = new Completions();
  await expect(as(() => service.fails())).rejects.toThrow('model down');
  expect(await rig.reported('c-basic', CAMPAIGNS)).toBe(0);
});

test('settle must be a function', () => {
  expect(() => RequireFeature(CAMPAIGNS, 1, { settle: 3 as never })).toThrow(/settle option of @RequireFeature/);
});
