/*
 * @nestjs/common, @nestjs/core and rxjs are optional peers: only stigg-gate/nest may load them. Here
 * loading any of them throws, and every other entry point must still load.
 */
jest.mock('@nestjs/common', () => {
  throw new Error('@nestjs/common was loaded');
});
jest.mock('@nestjs/core', () => {
  throw new Error('@nestjs/core was loaded');
});
jest.mock('rxjs', () => {
  throw new Error('rxjs was loaded');
});

const others = ['stigg-gate', 'stigg-gate/express', 'stigg-gate/koa', 'stigg-gate/decorators', 'stigg-gate/emulator', 'stigg-gate/redis'];

it.each(others)('%s loads without NestJS or rxjs', (entry) => {
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous load inside isolateModules is the point: import() would escape it
    expect(() => require(entry)).not.toThrow();
  });
});

it('stigg-gate/nest is the entry point that loads them (the mocks work)', () => {
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous load inside isolateModules is the point: import() would escape it
    expect(() => require('stigg-gate/nest')).toThrow(/@nestjs\/common was loaded/);
  });
});
