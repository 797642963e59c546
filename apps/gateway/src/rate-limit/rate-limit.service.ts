import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { createCacheRedis } from '@conduit/caching';
import {
  DistributedTokenBucket,
  type Bucket,
  type LimiterMode,
  type LimiterStatus,
  type RateDecision,
} from '@conduit/rate-limiting';
import { SERVICE_CONFIG } from '@conduit/runtime';
import { GATEWAY_REDIS } from '../cache/gateway-cache.module.js';
import type { GatewayConfig, RateLimitConfig } from '../config/gateway.config.js';
import type { Principal } from '../identity/principal.js';
import { ReplicaPresence } from './replica-presence.service.js';

/**
 * The gateway's limits: a token bucket per user and one per org, from config, overridden per
 * org tier; shared through Redis, local (divided by the live replicas) while Redis is away.
 */
@Injectable()
export class RateLimitService implements OnModuleDestroy {
  private readonly logger = new Logger(RateLimitService.name);
  private readonly limits: RateLimitConfig;
  private readonly limiter: DistributedTokenBucket;
  private readonly policies = new Map<string, string>();

  constructor(
    @Inject(GATEWAY_REDIS) redis: ReturnType<typeof createCacheRedis>,
    @Inject(SERVICE_CONFIG) config: GatewayConfig,
    presence: ReplicaPresence,
  ) {
    this.limits = config.service.rateLimit;
    this.limiter = new DistributedTokenBucket({
      redis,
      replicas: () => presence.liveReplicas(),
      onModeChange: (mode, reason) =>
        mode === 'local'
          ? this.logger.warn(`Redis unavailable (${reason ?? '?'}): rate limits on local buckets`)
          : this.logger.log('Redis is back: rate limits shared again'),
    });
  }

  /** The user and org buckets of a principal, by its org's tier. */
  bucketsOf(principal: Principal): Bucket[] {
    const tier = this.limits.tiers[principal.tier];
    return [
      { key: `rl:u:${principal.userId}`, limit: tier?.user ?? this.limits.user },
      { key: `rl:o:${principal.orgId}`, limit: tier?.org ?? this.limits.org },
    ];
  }

  consume(principal: Principal): Promise<RateDecision & { mode: LimiterMode }> {
    return this.limiter.consume(this.bucketsOf(principal));
  }

  /**
   * Takes the principal's tokens and sets `RateLimit-Limit`, `-Remaining`, `-Reset`, `-Policy`,
   * `X-RateLimit-Mode` and, when refused, `Retry-After`. Returns the decision.
   */
  async admit(principal: Principal, reply: FastifyReply): Promise<RateDecision> {
    const decision = await this.consume(principal);
    void reply.headers({
      'ratelimit-limit': decision.limit,
      'ratelimit-remaining': decision.remaining,
      'ratelimit-reset': decision.resetS,
      'ratelimit-policy': this.policyOf(principal),
      'x-ratelimit-mode': decision.mode,
    });
    if (!decision.allowed) void reply.header('retry-after', decision.retryAfterS);
    return decision;
  }

  /** `RateLimit-Policy`: each bucket as `"<name>";q=<burst>;w=<seconds to refill it>` (one string per tier). */
  policyOf(principal: Principal): string {
    let policy = this.policies.get(principal.tier);
    if (policy === undefined) {
      const [user, org] = this.bucketsOf(principal);
      const item = (name: string, b: Bucket | undefined) =>
        b ? `"${name}";q=${b.limit.burst};w=${Math.max(1, Math.ceil(b.limit.burst / b.limit.rate))}` : '';
      policy = `${item('user', user)}, ${item('org', org)}`;
      this.policies.set(principal.tier, policy);
    }
    return policy;
  }

  status(): LimiterStatus {
    return this.limiter.status();
  }

  onModuleDestroy(): void {
    this.limiter.close();
  }
}
