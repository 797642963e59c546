import { Global, Module } from '@nestjs/common';
import { CacheController } from './cache/cache.controller.js';
import { CachedResponseFastPath } from './cache/cached-response.fast-path.js';
import { ResponseCacheInterceptor } from './cache/cache-response.interceptor.js';
import { GatewayCacheModule } from './cache/gateway-cache.module.js';
import { ResponseCacheService } from './cache/response-cache.service.js';
import { AdminController } from './identity/admin.controller.js';
import { AuthGuard } from './identity/auth.guard.js';
import { IdentityService } from './identity/identity.service.js';
import { PerformanceController } from './performance/performance.controller.js';
import { PerformanceService } from './performance/performance.service.js';
import { RateLimitGuard } from './rate-limit/rate-limit.guard.js';
import { RateLimitService } from './rate-limit/rate-limit.service.js';
import { ReplicaPresence } from './rate-limit/replica-presence.service.js';

const shared = [
  IdentityService,
  AuthGuard,
  RateLimitService,
  RateLimitGuard,
  ReplicaPresence,
  ResponseCacheService,
  ResponseCacheInterceptor,
];

/**
 * What every request passes through at the edge — keys and roles, rate limits, the response
 * cache — global so that any controller can use `@Authenticated()` and `@CacheResponse()`;
 * plus the admin, cache and performance routes.
 */
@Global()
@Module({
  imports: [GatewayCacheModule],
  controllers: [AdminController, CacheController, PerformanceController],
  providers: [...shared, PerformanceService, CachedResponseFastPath],
  exports: shared,
})
export class EdgeModule {}
