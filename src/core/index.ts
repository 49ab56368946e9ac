export * from './types';
export * from './errors';
export { enableRequestContext, currentRequestContext, requestContextStorage } from './context';
export type { RequestContext } from './context';
