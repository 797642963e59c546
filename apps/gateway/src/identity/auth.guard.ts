import {
  applyDecorators,
  createParamDecorator,
  Injectable,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { TenantScope } from '@conduit/database';
import { ApiError } from '../common/api.error.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { keyFromHeaders } from './api-key.js';
import { roleRank, type Role } from './identity.schemas.js';
import { IdentityService } from './identity.service.js';
import type { Principal } from './principal.js';

const REQUIRED_ROLE = 'conduit:required-role';

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The lowest role allowed on a route; default `viewer` for GET/HEAD, `operator` otherwise. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

/**
 * Resolves `Authorization: Bearer <key>` or `x-api-key` to a {@link Principal}: 401 when the key
 * is missing, unknown or revoked, 403 when its role is below the route's. The org of every
 * request comes from here and nowhere else.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly identity: IdentityService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const request = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const key = keyFromHeaders(request.headers);
    if (!key) {
      throw new ApiError('unauthorized', 'missing API key: send Authorization: Bearer <key> or x-api-key', [
        { field: 'header.authorization', message: 'required' },
      ]);
    }
    const principal = await this.identity.resolve(key);
    if (!principal) {
      throw new ApiError('unauthorized', 'unknown or revoked API key', [
        { field: 'header.authorization', message: 'unknown or revoked' },
      ]);
    }
    const required =
      this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, [ctx.getHandler(), ctx.getClass()]) ??
      (request.method === 'GET' || request.method === 'HEAD' ? 'viewer' : 'operator');
    if (roleRank(principal.role) < roleRank(required)) {
      throw new ApiError('forbidden', `role ${principal.role} may not do this (needs ${required})`);
    }
    request.principal = principal;
    return true;
  }
}

/** Key check, role check, then the caller's rate limits: every authenticated route carries this. */
export const Authenticated = () =>
  applyDecorators(
    UseGuards(AuthGuard, RateLimitGuard),
    ApiBearerAuth(),
    ApiSecurity('api-key'),
    ApiResponse({ status: 401, description: 'missing, unknown or revoked key' }),
    ApiResponse({ status: 403, description: 'role too low' }),
    ApiResponse({ status: 429, description: 'rate limited (Retry-After)' }),
  );

const principalOf = (ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new ApiError('internal', 'AuthGuard did not run');
  return principal;
};

/** The caller resolved by {@link AuthGuard}. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext) => principalOf(ctx));

/** The caller's org, the only place a handler takes the org from. */
export const Tenant = createParamDecorator((_: unknown, ctx: ExecutionContext): TenantScope => ({
  orgId: principalOf(ctx).orgId,
}));

/** 403 unless the caller is an admin of `orgId` or of a system org. */
export function assertOrgAdmin(principal: Principal, orgId: string): void {
  if (principal.role !== 'admin' || (!principal.system && principal.orgId !== orgId)) {
    throw new ApiError('forbidden', `only an admin of org ${orgId} or a platform admin may do this`);
  }
}

/** 403 unless the caller is an admin of a system org. */
export function assertPlatformAdmin(principal: Principal): void {
  if (principal.role !== 'admin' || !principal.system) {
    throw new ApiError('forbidden', 'only a platform admin (admin of a system org) may do this');
  }
}
