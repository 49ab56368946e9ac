export { StiggClient, Stigg, DEFAULT_API_URL } from './client';
export type { StiggClientOptions, StiggCreateClientOptions, GetCouponsArgs } from './client';
export type { FetchLike } from './transport';
export {
  StiggError,
  StiggAuthError,
  StiggGraphQLError,
  StiggTimeoutError,
  StiggNetworkError,
  StiggHttpError,
} from './errors';
export type { StiggGraphQLErrorEntry } from './errors';
export type * from './types';
