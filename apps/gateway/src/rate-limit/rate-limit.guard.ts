import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../common/api.error.js';
import type { AuthenticatedRequest } from '../identity/auth.guard.js';
import { RateLimitService } from './rate-limit.service.js';

/**
 * After {@link AuthGuard}: takes a token from the caller's user and org buckets and sets
 * `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`, `RateLimit-Policy` and
 * `X-RateLimit-Mode` (`redis`, or `local` while degraded); over the limit answers 429 with
 * `Retry-After` and a JSON body.
 */
export const rateLimited = (retryAfterS: number): ApiError =>
  new ApiError('rate_limited', `rate limit exceeded; retry in ${retryAfterS} s`);

@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(private readonly limiter: RateLimitService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const http = ctx.switchToHttp();
    const principal = http.getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new ApiError('internal', 'AuthGuard must run before RateLimitGuard');
    const decision = await this.limiter.admit(principal, http.getResponse<FastifyReply>());
    if (!decision.allowed) throw rateLimited(decision.retryAfterS);
    return true;
  }
}
