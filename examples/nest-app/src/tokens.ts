/** The Stigg client (for POST /upgrade), provided by AppModule. */
export const STIGG_CLIENT = Symbol('STIGG_CLIENT');
