import { z } from 'zod';
import { envBool, envInt, envIntList, envUrl, type Preset } from './env.js';

/**
 * Environment variables every service reads. Keys are the variable names; {@link mapBaseConfig}
 * turns them into the nested object services use.
 */
export const baseEnvSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  HTTP_HOST: z.string().min(1),
  HTTP_PORT: envInt(1, 65535),
  NATS_URL: z
    .string()
    .min(1)
    .refine((v) => v.split(',').every((u) => /^(nats|tls|ws|wss):\/\/[^\s]+$/.test(u.trim())), {
      message: 'one or more comma-separated nats:// URLs',
    }),
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  NATS_REQUEST_TIMEOUT_MS: envInt(10, 120_000),
  DATABASE_URL: envUrl(['postgres:', 'postgresql:']),
  MIGRATION_DATABASE_URL: envUrl(['postgres:', 'postgresql:']),
  DATABASE_POOL_MAX: envInt(1, 200),
  MIGRATE_ON_START: envBool(),
  REDIS_URL: envUrl(['redis:', 'rediss:']),
  OTEL_EXPORTER_OTLP_ENDPOINT: envUrl(['http:', 'https:']).optional(),
  OTEL_TRACES_SAMPLER_RATIO: z.coerce.number().min(0).max(1),
  STREAM_MAX_AGE_HOURS: envInt(1, 24 * 365),
  STREAM_MAX_BYTES_MB: envInt(1, 1_048_576),
  STREAM_DUPLICATE_WINDOW_S: envInt(1, 86_400),
  CONSUMER_MAX_DELIVER: envInt(1, 1000),
  CONSUMER_ACK_WAIT_S: envInt(1, 3600),
  CONSUMER_BACKOFF_MS: envIntList(),
  SHUTDOWN_GRACE_MS: envInt(0, 600_000),
});
export type BaseEnv = z.infer<typeof baseEnvSchema>;

type Defaults = Partial<Record<keyof BaseEnv, string>>;

const common: Defaults = {
  LOG_LEVEL: 'info',
  HTTP_HOST: '0.0.0.0',
  NATS_REQUEST_TIMEOUT_MS: '5000',
  DATABASE_POOL_MAX: '10',
  OTEL_TRACES_SAMPLER_RATIO: '1',
  STREAM_MAX_AGE_HOURS: '168',
  STREAM_MAX_BYTES_MB: '10240',
  STREAM_DUPLICATE_WINDOW_S: '120',
  CONSUMER_MAX_DELIVER: '5',
  CONSUMER_ACK_WAIT_S: '30',
  CONSUMER_BACKOFF_MS: '1000,5000,15000,30000',
  SHUTDOWN_GRACE_MS: '25000',
};

const local: Defaults = {
  HTTP_HOST: '127.0.0.1',
  NATS_URL: 'nats://127.0.0.1:4222',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MIGRATE_ON_START: 'true',
};

/**
 * Defaults per preset. `production` leaves connection strings without defaults so that a
 * deployment that forgot one stops at boot instead of talking to localhost.
 */
export const BASE_PRESETS: Record<Preset, Defaults> = {
  production: { ...common, MIGRATE_ON_START: 'false', OTEL_TRACES_SAMPLER_RATIO: '0.1' },
  development: {
    ...common,
    ...local,
    LOG_LEVEL: 'info',
    // JetStream reserves max_bytes per stream against the server's store (by default a share of
    // the free disk): five streams at the production 10 GiB do not fit a laptop or a CI disk.
    STREAM_MAX_BYTES_MB: '2048',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:6432/conduit',
    MIGRATION_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/conduit',
  },
  test: {
    ...common,
    ...local,
    LOG_LEVEL: 'warn',
    STREAM_MAX_BYTES_MB: '1024',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:6432/conduit_test',
    MIGRATION_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/conduit_test',
    SHUTDOWN_GRACE_MS: '5000',
  },
};

/** The nested, typed view of {@link BaseEnv}. */
export interface BaseConfig {
  readonly preset: Preset;
  readonly serviceName: string;
  readonly log: { readonly level: BaseEnv['LOG_LEVEL'] };
  readonly http: { readonly host: string; readonly port: number };
  readonly nats: {
    readonly servers: readonly string[];
    readonly user?: string;
    readonly password?: string;
    readonly requestTimeoutMs: number;
  };
  readonly database: {
    readonly url: string;
    readonly migrationUrl: string;
    readonly poolMax: number;
    readonly migrateOnStart: boolean;
  };
  readonly redis: { readonly url: string };
  readonly tracing: { readonly otlpEndpoint?: string; readonly samplerRatio: number };
  readonly streams: {
    readonly maxAgeHours: number;
    readonly maxBytesMb: number;
    readonly duplicateWindowS: number;
  };
  readonly consumers: {
    readonly maxDeliver: number;
    readonly ackWaitS: number;
    readonly backoffMs: readonly number[];
  };
  readonly shutdownGraceMs: number;
}

/** Maps validated base variables to {@link BaseConfig}. */
export function mapBaseConfig(env: BaseEnv, preset: Preset, serviceName: string): BaseConfig {
  return {
    preset,
    serviceName,
    log: { level: env.LOG_LEVEL },
    http: { host: env.HTTP_HOST, port: env.HTTP_PORT },
    nats: {
      servers: env.NATS_URL.split(',').map((s) => s.trim()),
      user: env.NATS_USER,
      password: env.NATS_PASSWORD,
      requestTimeoutMs: env.NATS_REQUEST_TIMEOUT_MS,
    },
    database: {
      url: env.DATABASE_URL,
      migrationUrl: env.MIGRATION_DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      migrateOnStart: env.MIGRATE_ON_START,
    },
    redis: { url: env.REDIS_URL },
    tracing: { otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT, samplerRatio: env.OTEL_TRACES_SAMPLER_RATIO },
    streams: {
      maxAgeHours: env.STREAM_MAX_AGE_HOURS,
      maxBytesMb: env.STREAM_MAX_BYTES_MB,
      duplicateWindowS: env.STREAM_DUPLICATE_WINDOW_S,
    },
    consumers: {
      maxDeliver: env.CONSUMER_MAX_DELIVER,
      ackWaitS: env.CONSUMER_ACK_WAIT_S,
      backoffMs: env.CONSUMER_BACKOFF_MS,
    },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  };
}
