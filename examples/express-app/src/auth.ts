/**
 * DEMO ONLY: fixed bearer tokens stand in for a real login so that the printed curl commands work as
 * pasted. A real app takes the user from its session or a verified token, never from a table in code.
 */
import type { Request, RequestHandler } from 'express';

export interface DemoUser {
  readonly id: string;
  readonly name: string;
  /** The Stigg customer this user belongs to. */
  readonly stiggCustomerId: string;
}

export const demoUsers: ReadonlyMap<string, DemoUser> = new Map([
  ['token-basic', { id: 'ada', name: 'Ada (Basic plan)', stiggCustomerId: 'demo-basic' }],
  ['token-growth', { id: 'grace', name: 'Grace (Growth plan)', stiggCustomerId: 'demo-growth' }],
  ['token-no-plan', { id: 'linus', name: 'Linus (no subscription)', stiggCustomerId: 'demo-no-plan' }],
  ['token-archived', { id: 'barbara', name: 'Barbara (archived customer)', stiggCustomerId: 'demo-archived' }],
]);

const usersByRequest = new WeakMap<Request, DemoUser>();

/** The user demoAuth() authenticated for this request, if any. */
export function currentUser(req: Request): DemoUser | undefined {
  return usersByRequest.get(req);
}

/**
 * Authenticates `Authorization: Bearer <token>` against `users`. No header: the request goes on
 * anonymous (gated routes then answer 401). An unknown token: 401 here.
 */
export function demoAuth(users: ReadonlyMap<string, DemoUser>): RequestHandler {
  return function demoAuthMiddleware(req, res, next) {
    const header = req.get('authorization');
    if (header === undefined) {
      next();
      return;
    }
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const user = token === undefined ? undefined : users.get(token);
    if (user === undefined) {
      res
        .status(401)
        .type('application/problem+json')
        .json({
          type: 'about:blank',
          title: 'Unauthorized',
          status: 401,
          detail: `Unknown bearer token. Demo tokens: ${[...users.keys()].join(', ')}`,
        });
      return;
    }
    usersByRequest.set(req, user);
    next();
  };
}
