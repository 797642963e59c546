import { envInt, loadConfig, type ServiceConfigDefinition } from '@conduit/config';
import { z } from 'zod';

/** A token bucket: `rate` tokens per second refill a bucket of `burst` tokens. */
const bucketSchema = z.object({ rate: z.number().positive(), burst: z.number().int().min(1) });
export type BucketLimit = z.infer<typeof bucketSchema>;

const tierSchema = z.object({ user: bucketSchema, org: bucketSchema }).partial();
export type TierLimits = z.infer<typeof tierSchema>;

/** `{"gold":{"org":{"rate":500,"burst":1000}}, …}`: per-tier overrides of the default buckets. */
const tiersJson = z
  .string()
  .transform((raw, ctx) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().regex(/^[a-z0-9_-]{1,32}$/), tierSchema));

const orgId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'an org id (letters, digits, _ or -)');

const schema = {
  /**
   * An admin key seeded at start-up (hashed; idempotent) for the bootstrap org, whose admins
   * manage every org. `npm run up` generates one and writes it to `.conduit/dev.env`.
   */
  GATEWAY_BOOTSTRAP_ADMIN_KEY: z.string().min(32, 'at least 32 characters').optional(),
  GATEWAY_BOOTSTRAP_ORG_ID: orgId,
  /** Tier of the bootstrap org (rate limits). */
  GATEWAY_BOOTSTRAP_ORG_TIER: z.string().min(1),
  /** How long a resolved key stays in memory; revocations reach every replica at once over NATS. */
  GATEWAY_AUTH_CACHE_TTL_MS: envInt(100, 3_600_000),
  RATE_LIMIT_USER_RATE: z.coerce.number().positive(),
  RATE_LIMIT_USER_BURST: envInt(1, 10_000_000),
  RATE_LIMIT_ORG_RATE: z.coerce.number().positive(),
  RATE_LIMIT_ORG_BURST: envInt(1, 10_000_000),
  RATE_LIMIT_TIERS: tiersJson,
  /** A Redis call slower than this counts as a failure and switches to local buckets. */
  RATE_LIMIT_REDIS_TIMEOUT_MS: envInt(1, 10_000),
  /** Default TTL of cached responses (routes may set their own). */
  GATEWAY_CACHE_TTL_MS: envInt(100, 86_400_000),
  GATEWAY_CACHE_L1_MAX_MB: envInt(1, 4096),
  /** Deadline for services to answer /performance/health. */
  GATEWAY_PERF_DEADLINE_MS: envInt(10, 10_000),
  /** Largest request body on routes without their own limit. */
  GATEWAY_BODY_LIMIT_BYTES: envInt(1024, 256 * 1024 * 1024),
  /** Largest telemetry batch body (a 100 000-point batch is ~8 MB). Larger answers 413. */
  GATEWAY_INGEST_BODY_LIMIT_BYTES: envInt(1024, 256 * 1024 * 1024),
  TELEMETRY_MAX_POINTS_PER_REQUEST: envInt(1, 1_000_000),
  /** Points per JetStream message: ~1 000 keeps NATS far from being the bottleneck. */
  TELEMETRY_POINTS_PER_MESSAGE: envInt(1, 10_000),
};

const shared = {
  HTTP_PORT: '3000',
  GATEWAY_BOOTSTRAP_ORG_TIER: 'internal',
  GATEWAY_AUTH_CACHE_TTL_MS: '30000',
  RATE_LIMIT_USER_RATE: '50',
  RATE_LIMIT_USER_BURST: '100',
  RATE_LIMIT_ORG_RATE: '200',
  RATE_LIMIT_ORG_BURST: '400',
  // `internal` is the operators' own tier (benches, k6): limits far above what one machine serves.
  RATE_LIMIT_TIERS: JSON.stringify({
    internal: { user: { rate: 1_000_000, burst: 2_000_000 }, org: { rate: 1_000_000, burst: 2_000_000 } },
    gold: { user: { rate: 200, burst: 400 }, org: { rate: 1000, burst: 2000 } },
  }),
  RATE_LIMIT_REDIS_TIMEOUT_MS: '50',
  GATEWAY_CACHE_TTL_MS: '30000',
  GATEWAY_CACHE_L1_MAX_MB: '64',
  GATEWAY_PERF_DEADLINE_MS: '300',
  GATEWAY_BODY_LIMIT_BYTES: '1048576',
  GATEWAY_INGEST_BODY_LIMIT_BYTES: '16777216',
  TELEMETRY_MAX_POINTS_PER_REQUEST: '100000',
  TELEMETRY_POINTS_PER_MESSAGE: '1000',
};

export const gatewayConfigDefinition = {
  serviceName: 'gateway',
  schema,
  presets: {
    production: { ...shared, GATEWAY_BOOTSTRAP_ORG_ID: 'system', GATEWAY_BOOTSTRAP_ORG_TIER: 'standard' },
    development: { ...shared, GATEWAY_BOOTSTRAP_ORG_ID: 'dev-org' },
    test: { ...shared, GATEWAY_BOOTSTRAP_ORG_ID: 'dev-org' },
  },
  map: (env) => ({
    bootstrap: {
      adminKey: env.GATEWAY_BOOTSTRAP_ADMIN_KEY,
      orgId: env.GATEWAY_BOOTSTRAP_ORG_ID,
      tier: env.GATEWAY_BOOTSTRAP_ORG_TIER,
    },
    authCacheTtlMs: env.GATEWAY_AUTH_CACHE_TTL_MS,
    rateLimit: {
      user: { rate: env.RATE_LIMIT_USER_RATE, burst: env.RATE_LIMIT_USER_BURST },
      org: { rate: env.RATE_LIMIT_ORG_RATE, burst: env.RATE_LIMIT_ORG_BURST },
      tiers: env.RATE_LIMIT_TIERS,
      redisTimeoutMs: env.RATE_LIMIT_REDIS_TIMEOUT_MS,
    },
    cache: { ttlMs: env.GATEWAY_CACHE_TTL_MS, l1MaxBytes: env.GATEWAY_CACHE_L1_MAX_MB * 1024 * 1024 },
    perfDeadlineMs: env.GATEWAY_PERF_DEADLINE_MS,
    bodyLimitBytes: env.GATEWAY_BODY_LIMIT_BYTES,
    ingestBodyLimitBytes: env.GATEWAY_INGEST_BODY_LIMIT_BYTES,
    ingest: {
      maxPointsPerRequest: env.TELEMETRY_MAX_POINTS_PER_REQUEST,
      pointsPerMessage: env.TELEMETRY_POINTS_PER_MESSAGE,
    },
  }),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export type GatewayServiceConfig = GatewayConfig['service'];
export type RateLimitConfig = GatewayServiceConfig['rateLimit'];

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(gatewayConfigDefinition, env);
