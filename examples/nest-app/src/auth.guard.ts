/**
 * DEMO ONLY: fixed bearer tokens stand in for a real login so that the printed curl commands work as
 * pasted. A real app takes the user from its session or a verified token (e.g. @nestjs/passport).
 */
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';

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

export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: DemoUser;
}

/** The user DemoAuthGuard authenticated for this request, if any. */
export function currentUser(context: ExecutionContext): DemoUser | undefined {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().user;
}

/** Authenticates `Authorization: Bearer <token>`. No header: anonymous (gated routes answer 401). Unknown token: 401. */
@Injectable()
export class DemoAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization;
    if (typeof header !== 'string') return true;
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const user = token === undefined ? undefined : demoUsers.get(token);
    if (user === undefined) throw new UnauthorizedException(`Unknown bearer token. Demo tokens: ${[...demoUsers.keys()].join(', ')}`);
    req.user = user;
    return true;
  }
}
