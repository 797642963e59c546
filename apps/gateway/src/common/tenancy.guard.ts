import {
  createParamDecorator,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { orgIdSchema } from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { ApiError } from './api.error.js';

/** Injection token of the development default org (undefined in production). */
export const DEFAULT_ORG_ID = Symbol('DEFAULT_ORG_ID');

type ScopedRequest = FastifyRequest & { tenant?: TenantScope };

/**
 * Resolves the tenant of every `/api` request. Until API keys arrive it is the `x-org-id`
 * header, falling back to the development default org; missing → 401, malformed → 400.
 */
@Injectable()
export class TenancyGuard implements CanActivate {
  constructor(@Inject(DEFAULT_ORG_ID) private readonly defaultOrg: string | undefined) {}

  canActivate(ctx: ExecutionContext): boolean {
    const request = ctx.switchToHttp().getRequest<ScopedRequest>();
    const raw = request.headers['x-org-id'] ?? this.defaultOrg;
    if (raw === undefined) {
      throw new ApiError('unauthorized', 'no tenant: send x-org-id', [
        { field: 'header.x-org-id', message: 'required' },
      ]);
    }
    const parsed = orgIdSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ApiError('validation_failed', 'invalid x-org-id header', [
        { field: 'header.x-org-id', message: parsed.error.issues[0]?.message ?? 'invalid' },
      ]);
    }
    request.tenant = { orgId: parsed.data };
    return true;
  }
}

/** The tenant resolved by {@link TenancyGuard}: the only place a handler takes the org from. */
export const Tenant = createParamDecorator((_: unknown, ctx: ExecutionContext): TenantScope => {
  const tenant = ctx.switchToHttp().getRequest<ScopedRequest>().tenant;
  if (!tenant) throw new ApiError('internal', 'TenancyGuard did not run');
  return tenant;
});
