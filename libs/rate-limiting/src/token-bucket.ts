/** A token bucket: `rate` tokens per second refill a bucket of `burst` tokens. */
export interface BucketLimit {
  readonly rate: number;
  readonly burst: number;
}

/** One bucket to take from: its Redis key (also the local key) and its limit. */
export interface Bucket {
  readonly key: string;
  readonly limit: BucketLimit;
}

/** One bucket's state after a decision. */
export interface BucketLevel {
  readonly limit: BucketLimit;
  /** Tokens left (fractional). */
  readonly tokens: number;
}

/** What a request is told: allowed or not, and the `RateLimit-*` figures of the tightest bucket. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Burst of the tightest bucket (`RateLimit-Limit`). */
  readonly limit: number;
  /** Whole tokens left in the tightest bucket (`RateLimit-Remaining`). */
  readonly remaining: number;
  /** Seconds until the tightest bucket is full again (`RateLimit-Reset`). */
  readonly resetS: number;
  /** Seconds until the request could pass (`Retry-After`), 0 when allowed. */
  readonly retryAfterS: number;
}

/**
 * Token bucket over several buckets at once (user and org): the request passes only when every
 * bucket holds `cost` tokens, and then takes them from all. KEYS = buckets; ARGV[1] = cost, then
 * per bucket its rate in tokens/ms and its burst. Time is Redis's own (`TIME`), so gateway
 * replicas with skewed clocks share one timeline. Levels come back as strings: Redis would
 * truncate Lua numbers to integers.
 */
export const TOKEN_BUCKET_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local levels = {}
local allowed = 1
for i = 1, #KEYS do
  local rate = tonumber(ARGV[i * 2])
  local burst = tonumber(ARGV[i * 2 + 1])
  local s = redis.call('HMGET', KEYS[i], 'tk', 'ts')
  local tokens = tonumber(s[1])
  local ts = tonumber(s[2])
  if tokens == nil or ts == nil then
    tokens = burst
    ts = now
  end
  if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate) end
  levels[i] = tokens
  if tokens < cost then allowed = 0 end
end
local out = { allowed }
for i = 1, #KEYS do
  local tokens = levels[i]
  if allowed == 1 then
    local rate = tonumber(ARGV[i * 2])
    local burst = tonumber(ARGV[i * 2 + 1])
    tokens = tokens - cost
    redis.call('HSET', KEYS[i], 'tk', tostring(tokens), 'ts', tostring(now))
    redis.call('PEXPIRE', KEYS[i], math.ceil((burst - tokens) / rate) + 1000)
  end
  out[#out + 1] = tostring(tokens)
end
return out
`;

/** The decision for `levels` (the buckets after the attempt), the same for Redis and local buckets. */
export function decide(allowed: boolean, levels: readonly BucketLevel[], cost = 1): RateDecision {
  let tightest = levels[0];
  let retryAfterS = 0;
  for (const level of levels) {
    if (!tightest || level.tokens < tightest.tokens) tightest = level;
    if (!allowed && level.tokens < cost) {
      retryAfterS = Math.max(retryAfterS, Math.ceil((cost - level.tokens) / level.limit.rate));
    }
  }
  if (!tightest) return { allowed: true, limit: 0, remaining: 0, resetS: 0, retryAfterS: 0 };
  const { limit, tokens } = tightest;
  return {
    allowed,
    limit: limit.burst,
    remaining: Math.max(0, Math.floor(tokens)),
    resetS: Math.max(0, Math.ceil((limit.burst - tokens) / limit.rate)),
    retryAfterS: allowed ? 0 : Math.max(1, retryAfterS),
  };
}

/** An in-process bucket (the fallback when Redis is unreachable): same arithmetic as the script. */
export class LocalBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly limit: BucketLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.at = now;
  }

  /** Tokens available at `now` (refilled, capped at burst), without taking any. */
  level(now: number): number {
    if (now > this.at) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.at) * this.limit.rate) / 1000);
      this.at = now;
    }
    return this.tokens;
  }

  take(cost: number): void {
    this.tokens -= cost;
  }
}

/**
 * A limit shared by `replicas` gateways, as each one's local share: rate and burst divided by
 * the number of live replicas (burst at least 1), so the fleet-wide limit holds while Redis is
 * away instead of failing open or multiplying by the replica count.
 */
export function localShare(limit: BucketLimit, replicas: number): BucketLimit {
  const n = Math.max(1, replicas);
  return { rate: limit.rate / n, burst: Math.max(1, Math.floor(limit.burst / n)) };
}
