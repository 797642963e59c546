import { Controller, Delete, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { CacheStats, TwoLevelCache } from '@conduit/caching';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { Authenticated, CurrentPrincipal, RequireRole } from '../identity/auth.guard.js';
import type { Principal } from '../identity/principal.js';
import { AUTH_CACHE } from './gateway-cache.module.js';
import { ResponseCacheService } from './response-cache.service.js';

const invalidateQuery = z.strictObject({
  pattern: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional(),
});

@ApiTags('cache')
@Controller('cache')
@Authenticated()
export class CacheController {
  constructor(
    private readonly responses: ResponseCacheService,
    @Inject(AUTH_CACHE) private readonly auth: TwoLevelCache,
  ) {}

  @Get('stats')
  @ApiOperation({ summary: "This replica's cache statistics per layer (response and auth caches)" })
  stats(): { caches: CacheStats[] } {
    return { caches: [this.responses.cache.stats(), this.auth.stats()] };
  }

  @Delete()
  @RequireRole('admin')
  @ApiOperation({
    summary:
      "Drop cached responses: the caller's org's entries whose path and query match `pattern` (glob: * ?), " +
      'or all of them; a platform admin without pattern clears every org',
  })
  @ApiQuery({ name: 'pattern', required: false, example: '/api/v1/devices*' })
  async invalidate(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodValidationPipe(invalidateQuery, 'query')) query: z.infer<typeof invalidateQuery>,
  ): Promise<{ invalidated: number | 'all' }> {
    if (!query.pattern && principal.system) {
      await this.responses.clearAll();
      return { invalidated: 'all' };
    }
    return { invalidated: await this.responses.invalidateOrg(principal.orgId, query.pattern) };
  }
}
