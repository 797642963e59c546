import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { register } from 'prom-client';
import { createCacheRedis, TwoLevelCache, type TwoLevelCacheOptions } from '@conduit/caching';

type Redis = ReturnType<typeof createCacheRedis>;
type Nats = TwoLevelCacheOptions['nats'];
import { NATS_CONNECTION } from '@conduit/messaging';
import { SERVICE_CONFIG } from '@conduit/runtime';
import type { GatewayConfig } from '../config/gateway.config.js';

/** The gateway's Redis client (rate-limit buckets and the L2 of its caches). */
export const GATEWAY_REDIS = Symbol('GATEWAY_REDIS');
/** API key → principal, in memory only (Postgres is the truth; revocations travel over NATS). */
export const AUTH_CACHE = Symbol('AUTH_CACHE');
/** Cached responses, L1 + L2, invalidated by DEVICE events. */
export const RESPONSE_CACHE = Symbol('RESPONSE_CACHE');

@Injectable()
class CachesLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(GATEWAY_REDIS) private readonly redis: Redis,
    @Inject(AUTH_CACHE) private readonly auth: TwoLevelCache,
    @Inject(RESPONSE_CACHE) private readonly responses: TwoLevelCache,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.auth.close(), this.responses.close()]);
    this.redis.disconnect();
  }
}

const startedCache = async (cache: TwoLevelCache): Promise<TwoLevelCache> => {
  await cache.start();
  return cache;
};

@Global()
@Module({
  providers: [
    {
      provide: GATEWAY_REDIS,
      // Fails fast while Redis is away, so rate limits and caches fall back at once.
      useFactory: (config: GatewayConfig) =>
        createCacheRedis(config.redis.url, {
          commandTimeoutMs: config.service.rateLimit.redisTimeoutMs,
          name: 'gateway',
        }),
      inject: [SERVICE_CONFIG],
    },
    {
      provide: AUTH_CACHE,
      useFactory: (nc: Nats, config: GatewayConfig) =>
        startedCache(
          new TwoLevelCache({
            namespace: 'auth',
            nats: nc,
            l1: { maxEntries: 100_000, maxBytes: 32 * 1024 * 1024 },
            defaultTtlMs: config.service.authCacheTtlMs,
            jitter: 0.1,
            registry: register,
          }),
        ),
      inject: [NATS_CONNECTION, SERVICE_CONFIG],
    },
    {
      provide: RESPONSE_CACHE,
      useFactory: (redis: Redis, nc: Nats, config: GatewayConfig) =>
        startedCache(
          new TwoLevelCache({
            namespace: 'resp',
            redis,
            nats: nc,
            l1: { maxEntries: 50_000, maxBytes: config.service.cache.l1MaxBytes },
            defaultTtlMs: config.service.cache.ttlMs,
            redisTimeoutMs: config.service.rateLimit.redisTimeoutMs,
            registry: register,
          }),
        ),
      inject: [GATEWAY_REDIS, NATS_CONNECTION, SERVICE_CONFIG],
    },
    CachesLifecycle,
  ],
  exports: [GATEWAY_REDIS, AUTH_CACHE, RESPONSE_CACHE],
})
export class GatewayCacheModule {}
