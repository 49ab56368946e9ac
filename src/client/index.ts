export { StiggClient, Stigg } from './client';
export type { GetCouponsArgs } from './client';
export type { RequestOptions } from './abort';
export { DEFAULT_API_URL } from './options';
export type { StiggClientOptions, StiggCreateClientOptions } from './options';
export type { FetchLike } from './transport';
export { StiggError, StiggAuthError, StiggGraphQLError, StiggTimeoutError, StiggNetworkError, StiggHttpError } from './errors';
export type { StiggGraphQLErrorEntry } from './errors';
export type * from './types';
