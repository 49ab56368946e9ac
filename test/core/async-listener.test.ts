import type { Logger } from '../../src/core/types';
import { customer, startRig, TEMPLATES } from './helpers';
import { forSuite } from '../support/suite';

// entitlements.on('cache:miss' | 'decision' | 'usage:undelivered' ..., async (x) => { await db.save(x) }):
// an async listener is assignable to a void one, and its rejection was an unhandled rejection (a
// crash on Node >= 15; 1 per event before the fix), where a throwing listener was caught and logged.

const rig = forSuite(() => startRig([customer('async-listener', 'plan-revvenu-growth')]));

test('a listener that returns a rejected promise is logged like one that throws: no unhandled rejection, the others still hear', async () => {
  const errors: string[] = [];
  const logger: Logger = { warn: () => undefined, error: (meta, message) => errors.push(`${message} ${JSON.stringify(meta)}`) };
  const entitlements = rig.make({ logger });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const heard: string[] = [];
  try {
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- exactly what an app without this rule writes
    entitlements.on('cache:miss', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      throw new Error('audit log down');
    });
    entitlements.on('cache:miss', (key) => heard.push(key));
    const decision = await entitlements.check({ customerId: 'async-listener', featureId: TEMPLATES });
    expect(decision.granted).toBe(true);
    expect(heard).toHaveLength(1);
    for (let i = 0; i < 40 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(errors.join('\n')).toMatch(/cache:miss.*audit log down/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
