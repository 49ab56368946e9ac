import { rejectUnknownOptions } from '../../src/util/unknown-options';

describe('rejectUnknownOptions', () => {
  const known = ['failMode', 'fallback', 'cache', 'usage', 'logger', 'statusMapping', 'resource'];

  it('accepts known keys', () => {
    expect(() => rejectUnknownOptions({ failMode: 'open', cache: {} }, known, 'createEntitlements()')).not.toThrow();
  });

  it.each([
    ['failmode', 'failMode'],
    ['statusMap', 'statusMapping'],
    ['resourceId', 'resource'],
    ['loger', 'logger'],
  ])('names the closest known key for %s', (typo, meant) => {
    expect(() => rejectUnknownOptions({ [typo]: 1 }, known, 'createEntitlements()')).toThrow(
      new TypeError(`"${typo}" is not an option of createEntitlements(). Did you mean "${meant}"? Known options: ${known.join(', ')}.`),
    );
  });

  it('lists the known keys when nothing is close', () => {
    expect(() => rejectUnknownOptions({ somethingElse: 1 }, known, 'stigg()')).toThrow(
      /^"somethingElse" is not an option of stigg\(\)\. Known options: failMode/,
    );
  });
});
