import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, register, type Registry } from 'prom-client';
import {
  decide,
  LocalBucket,
  localShare,
  TOKEN_BUCKET_LUA,
  type Bucket,
  type RateDecision,
} from './token-bucket.js';

export type LimiterMode = 'redis' | 'local';

export interface DistributedTokenBucketOptions {
  /** A client that fails fast (no offline queue) with a short `commandTimeout`: a slow Redis counts as down. */
  readonly redis: Redis;
  /** Live replicas sharing the limits (at least 1): local buckets get `1/replicas` of each limit. */
  readonly replicas: () => number;
  /** How often Redis is probed while degraded (1 000 ms). */
  readonly probeIntervalMs?: number;
  /** Told about switches between modes. */
  readonly onModeChange?: (mode: LimiterMode, reason?: string) => void;
  readonly registry?: Registry;
}

export interface LimiterStatus {
  readonly mode: LimiterMode;
  readonly redisConnected: boolean;
  readonly liveReplicas: number;
  readonly degradedSince?: string;
  readonly lastError?: string;
}

type ScriptedRedis = Redis & {
  conduitTokenBucket(numKeys: number, ...args: (string | number)[]): Promise<string[]>;
};

const metrics = new WeakMap<Registry, { degraded: Gauge; decisions: Counter<'result' | 'mode'> }>();
function metricsOf(registry: Registry) {
  let m = metrics.get(registry);
  if (!m) {
    m = {
      degraded: new Gauge({
        name: 'conduit_rate_limit_degraded',
        help: '1 while rate limits run on local buckets because Redis is unreachable or slow, else 0',
        registers: [registry],
      }),
      decisions: new Counter({
        name: 'conduit_rate_limit_decisions_total',
        help: 'Rate-limit decisions by result (allowed|limited) and mode (redis|local)',
        labelNames: ['result', 'mode'] as const,
        registers: [registry],
      }),
    };
    metrics.set(registry, m);
  }
  return m;
}

/**
 * Token buckets shared by every replica through Redis — one atomic script takes from several
 * buckets at once (user and org) — with an in-process fallback. A Redis error or timeout
 * switches to local buckets sized as each limit divided by the live replicas (the fleet-wide
 * limit holds: neither failing open nor multiplying the quota); Redis is probed meanwhile and
 * takes over again when it answers.
 *
 * Hand-written rather than rate-limiter-flexible: its limiters are fixed windows (bursty at
 * window edges) and its `BurstyRateLimiter` is two fixed windows, not a token bucket; a token
 * bucket in Redis is the short script in `token-bucket.ts`.
 */
export class DistributedTokenBucket {
  private mode: LimiterMode = 'redis';
  private degradedSince?: Date;
  private lastError?: string;
  private probe?: NodeJS.Timeout;
  private readonly local = new LRUCache<string, LocalBucket>({ max: 100_000 });
  private readonly redis: ScriptedRedis;
  private readonly metrics: ReturnType<typeof metricsOf>;

  constructor(private readonly options: DistributedTokenBucketOptions) {
    this.redis = options.redis as ScriptedRedis;
    if (typeof this.redis.conduitTokenBucket !== 'function') {
      this.redis.defineCommand('conduitTokenBucket', { lua: TOKEN_BUCKET_LUA });
    }
    this.metrics = metricsOf(options.registry ?? register);
    this.metrics.degraded.set(0);
  }

  /** Takes `cost` tokens from every bucket, or none when one of them is short. */
  async consume(buckets: readonly Bucket[], cost = 1): Promise<RateDecision & { mode: LimiterMode }> {
    if (this.mode === 'redis') {
      try {
        const decision = await this.consumeRedis(buckets, cost);
        this.metrics.decisions.inc({ result: decision.allowed ? 'allowed' : 'limited', mode: 'redis' });
        return { ...decision, mode: 'redis' };
      } catch (error) {
        this.degrade(error);
      }
    }
    const decision = this.consumeLocal(buckets, cost);
    this.metrics.decisions.inc({ result: decision.allowed ? 'allowed' : 'limited', mode: 'local' });
    return { ...decision, mode: 'local' };
  }

  status(): LimiterStatus {
    return {
      mode: this.mode,
      redisConnected: this.redis.status === 'ready',
      liveReplicas: this.options.replicas(),
      ...(this.degradedSince ? { degradedSince: this.degradedSince.toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  close(): void {
    clearInterval(this.probe);
    this.probe = undefined;
  }

  private async consumeRedis(buckets: readonly Bucket[], cost: number): Promise<RateDecision> {
    // Without a connection the call would be refused at once anyway (no offline queue): skip it.
    if (this.redis.status !== 'ready') throw new Error(`redis ${this.redis.status}`);
    const args: (string | number)[] = buckets.map((b) => b.key);
    args.push(cost);
    for (const { limit } of buckets) args.push(limit.rate / 1000, limit.burst);
    const [allowed, ...levels] = await this.redis.conduitTokenBucket(buckets.length, ...args);
    return decide(
      Number(allowed) === 1,
      buckets.map((b, i) => ({ limit: b.limit, tokens: Number(levels[i]) })),
      cost,
    );
  }

  private consumeLocal(buckets: readonly Bucket[], cost: number): RateDecision {
    const now = Date.now();
    const replicas = this.options.replicas();
    const local = buckets.map(({ key, limit }) => {
      const share = localShare(limit, replicas);
      let bucket = this.local.get(key);
      if (!bucket || bucket.limit.rate !== share.rate || bucket.limit.burst !== share.burst) {
        // New, or the replica count changed: start at the new share, never above what was left.
        const previous = bucket?.level(now);
        bucket = new LocalBucket(share, now);
        if (previous !== undefined && previous < share.burst) bucket.take(share.burst - previous);
        this.local.set(key, bucket);
      }
      return bucket;
    });
    const allowed = local.every((b) => b.level(now) >= cost);
    if (allowed) for (const b of local) b.take(cost);
    return decide(
      allowed,
      local.map((b) => ({ limit: b.limit, tokens: b.level(now) })),
      cost,
    );
  }

  private degrade(error: unknown): void {
    if (this.mode === 'local') return;
    this.mode = 'local';
    this.degradedSince = new Date();
    this.lastError = error instanceof Error ? error.message : String(error);
    this.metrics.degraded.set(1);
    this.options.onModeChange?.('local', this.lastError);
    this.probe = setInterval(() => void this.tryRecover(), this.options.probeIntervalMs ?? 1_000);
    this.probe.unref();
  }

  private async tryRecover(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    try {
      await this.redis.ping();
    } catch {
      return;
    }
    this.close();
    this.mode = 'redis';
    this.degradedSince = undefined;
    this.metrics.degraded.set(0);
    // Local buckets start afresh at the next outage.
    this.local.clear();
    this.options.onModeChange?.('redis');
  }
}
